"""Benchmark: in-process assessments per second and the cold start of `calcinosis assess` on one case.

Side by side in one run, each against a baseline:
- in-process: assess() on the 18 published cases vs the baseline of only parsing them (json.loads + reader),
  with the knowledge base's memos warm (texts and interval choices seen before: the same cases repeated) and
  cold (memos emptied before every assessment: every text is new);
- cold start: `calcinosis assess FILE` vs the bare interpreter start (`python -c pass`).
Usage: python benchmarks/bench_assess.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT.parent / "shared" / "cases" / "dev"


def _best(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=50, help="passes over the 18 cases per round")
    args = ap.parse_args()
    from calcinosis.core.assess import assess
    from calcinosis.io.case import read_case
    from calcinosis.kb import load_kb

    kb = load_kb()
    texts = [p.read_text() for p in sorted(CASES.glob("*.json"))]
    findings = [read_case(json.loads(t), "bench") for t in texts]
    for f in findings:  # warm caches (lexicon compilation happens once per knowledge base)
        assess(f, kb)
    n = len(findings) * args.repeat

    def parse_only():
        for _ in range(args.repeat):
            for t in texts:
                read_case(json.loads(t), "bench")

    def assess_all():
        for _ in range(args.repeat):
            for f in findings:
                assess(f, kb)

    memos = ("text_hits", "picked_intervals")

    def assess_all_cold():
        for _ in range(args.repeat):
            for f in findings:
                for m in memos:
                    kb.cache.pop(m, None)
                assess(f, kb)

    t_parse = _best(parse_only, args.rounds)
    t_assess = _best(assess_all, args.rounds)
    t_cold_memo = _best(assess_all_cold, args.rounds)
    seed = str(CASES / "randhawa2018-seed.json")
    cmd = [sys.executable, "-m", "calcinosis", "assess", seed]

    def cold():
        subprocess.run(cmd, check=True, capture_output=True)

    def bare():
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)

    t_cold = _best(cold, args.rounds)
    t_bare = _best(bare, args.rounds)
    res = {
        "machine": f"{platform.node()} {platform.machine()} {platform.processor() or ''} cores={__import__('os').cpu_count()} python={platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "assess_ms_per_case": round(t_assess / n * 1000, 4),
        "assessments_per_second": round(n / t_assess),
        "assess_ms_per_case_memos_cold": round(t_cold_memo / n * 1000, 4),
        "parse_only_ms_per_case": round(t_parse / n * 1000, 4),
        "assess_vs_parse_ratio": round(t_assess / t_parse, 2),
        "cold_start_s": round(t_cold, 3),
        "bare_python_start_s": round(t_bare, 3),
        "cold_start_vs_bare_ratio": round(t_cold / t_bare, 2),
    }
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
