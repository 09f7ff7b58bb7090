"""Screening benchmarks, side by side in one run (never run by CI: it takes a size argument).

    python benchmarks/bench_screen.py 1000000 --dir /tmp/bench-screen [--no-spark] [--sample 2000]

Compares on one synthetic export: DuckDB's bare count(*) scan (the floor), the DuckDB screen (scan+gather
alone and the whole screen with assessment; peak RSS of its own subprocess), a per-patient Python baseline
(fhir.resources parse + assess of every patient, run on a sample and extrapolated), Spark local[1] and local[2].
Prints a Markdown table of seconds, ratios to the floor and CPU seconds (user + system, the step's process and
its children: steadier than wall time when the machine is shared), and the engine part split into its passes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, datetime as dt
mode, exp, out = sys.argv[1], sys.argv[2], sys.argv[3]
def cpu():
    return sum(getattr(resource.getrusage(w), k) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for k in ("ru_utime", "ru_stime"))
t = time.perf_counter()
res = {}
if mode == "floor":
    import duckdb
    from calcinosis.screening.export import discover
    files = [str(f.path) for f in discover(exp)]
    con = duckdb.connect(); con.execute("SET enable_progress_bar=false")
    n = con.execute(f"SELECT count(*) FROM read_json_objects({files!r}, format='newline_delimited')").fetchone()[0]
    res["lines"] = n
elif mode == "engine":
    from calcinosis.kb import load_kb
    from calcinosis.screening.config import load_config
    from calcinosis.screening.duck import DuckEngine
    from calcinosis.screening.export import ErrorLog, discover
    from calcinosis.screening.run import decide_candidates, default_as_of
    from pathlib import Path
    kb = load_kb(); cfg = load_config(kb); files = discover(exp); as_of = default_as_of(Path(exp))
    e = DuckEngine(cfg, as_of, ErrorLog(10**9)); rows = []
    t1 = time.perf_counter()
    for f, n, r in e.scan(files): rows += r
    t2 = time.perf_counter()
    c = decide_candidates(rows, e, cfg, as_of)
    t3 = time.perf_counter()
    res["candidates"] = len(c); res["gathered_lines"] = sum(len(l) for _, l in e.gather(files, sorted(c)))
    res["passes"] = {"setup": t1 - t, "scan": t2 - t1, "candidates": t3 - t2, "gather": time.perf_counter() - t3}
else:
    from calcinosis.screening.run import screen
    eng, _, master = mode.partition(":")
    s = screen(exp, out, engine=eng, master=master or None, progress=False, workers=int(sys.argv[4]))
    res["candidates"] = s.candidates; res["resources"] = s.resources
res["seconds"] = time.perf_counter() - t
res["cpu_seconds"] = cpu()
res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(res))
"""

BASELINE = r"""
import json, sys, time, datetime as dt
from collections import defaultdict
from pathlib import Path
from fhir.resources.R4B import get_fhir_model_class
from calcinosis.kb import load_kb
from calcinosis.screening.assess_one import findings_and_assessment
exp, sample = Path(sys.argv[1]), int(sys.argv[2])
kb = load_kb(); as_of = dt.date(2026, 11, 24)
by = defaultdict(list)
for p in sorted(exp.glob("*.0.ndjson")):   # the first chunk holds the first patients
    for line in p.open():
        r = json.loads(line)
        pid = r["id"] if r["resourceType"] == "Patient" else (r.get("subject") or r.get("patient"))["reference"][8:]
        by[pid].append(r)
pids = sorted(by)[:sample]
t = time.perf_counter(); errors = 0
for pid in pids:
    res = by[pid]
    for r in res:
        get_fhir_model_class(r["resourceType"]).model_validate(r)
    try:
        findings_and_assessment(res, pid, as_of, kb)
    except Exception:
        errors += 1
print("RESULT " + json.dumps({"seconds": time.perf_counter() - t, "patients": len(pids), "errors": errors}))
"""


def child(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONHASHSEED="0")
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if p.returncode or not line:
        raise SystemExit(f"benchmark step failed: {args}\n{p.stderr[-3000:]}")
    res = json.loads(line[-1][7:])
    print(f"  {args[0]}: {res}", file=sys.stderr, flush=True)  # each step as it ends
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("patients", type=int)
    ap.add_argument("--dir", default="/tmp/bench-screen")
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-spark", action="store_true")
    a = ap.parse_args()
    root = Path(a.dir)
    exp = root / f"export-{a.patients}"
    t = time.perf_counter()
    if not (exp / "manifest.json").is_file():
        from calcinosis.screening.synth import synth

        synth(a.patients, exp, seed=1, workers=2)
    gen = time.perf_counter() - t
    size = sum(p.stat().st_size for p in exp.glob("*.ndjson*")) / 1e6
    rows = {}
    # the floor twice, the faster kept: its first read may be the one that brings the files into the page
    # cache, which every later step then enjoys
    rows["floor: DuckDB count(*)"] = min((child(CHILD, "floor", str(exp), "-") for _ in range(2)),
                                         key=lambda r: r["seconds"])
    rows["DuckDB scan + candidates + gather"] = child(CHILD, "engine", str(exp), "-")
    rows["DuckDB screen (1 process)"] = child(CHILD, "duckdb", str(exp), str(root / "out-duck1"), "1")
    rows[f"DuckDB screen ({a.workers} assess workers)"] = child(CHILD, "duckdb", str(exp), str(root / "out-duck"),
                                                               str(a.workers))
    base = child(BASELINE, str(exp), str(a.sample))
    per = base["seconds"] / max(1, base["patients"])
    rows[f"per-patient Python baseline (sample {base['patients']}, extrapolated)"] = {
        "seconds": per * a.patients, "peak_rss_mb": float("nan")}
    if not a.no_spark:
        rows["Spark local[1]"] = child(CHILD, "spark:local[1]", str(exp), str(root / "out-spark1"), "1")
        rows["Spark local[2]"] = child(CHILD, "spark:local[2]", str(exp), str(root / "out-spark2"), "1")
    floor = rows["floor: DuckDB count(*)"]["seconds"]
    print(f"\n{a.patients} patients, {rows['floor: DuckDB count(*)']['lines']} resources, {size:.0f} MB NDJSON; "
          f"synth {gen:.1f} s; candidates {rows['DuckDB scan + candidates + gather']['candidates']}\n")
    print("| step | seconds | × floor | CPU s | peak RSS (MB) |\n|---|---|---|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v['seconds']:.1f} | {v['seconds'] / floor:.2f} | {v.get('cpu_seconds', float('nan')):.1f} "
              f"| {v.get('peak_rss_mb', float('nan')):.0f} |")
    passes = rows["DuckDB scan + candidates + gather"].get("passes")
    if passes:
        print("\nengine part: " + ", ".join(f"{k} {v:.2f} s" for k, v in passes.items()))
    duck = rows["DuckDB screen (1 process)"]["seconds"]
    print(f"\nspeed-up of the DuckDB screen over the per-patient baseline: "
          f"{rows[next(k for k in rows if k.startswith('per-patient'))]['seconds'] / duck:.0f}×")
    if not a.no_spark:
        print(f"Spark local[1] / local[2]: {rows['Spark local[1]']['seconds'] / rows['Spark local[2]']['seconds']:.2f}")


if __name__ == "__main__":
    main()
