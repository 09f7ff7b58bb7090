"""Benchmark: reading a case's labs with the compiled lookup (kb.cache["labs"]) against a cold baseline that
recompiles the lab knowledge on every call. Run: pytest benchmarks/bench_labs.py --benchmark-only
Compare the two means side by side (ratio); absolute times on a 2-core VM vary."""

from __future__ import annotations

import json
import os
from pathlib import Path

from calcinosis.core.labs import check_labs, read_labs
from calcinosis.io.case import read_case
from calcinosis.kb import load_kb

_SHARED = Path(os.environ.get("CALCINOSIS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CASE = _SHARED / "cases" / "dev" / "eurjpediatr2008-scfn.json"


def _findings():
    return read_case(json.loads(CASE.read_text()), CASE.name)


def _run(kb, f):
    check_labs(f.labs, kb)
    return read_labs(f.labs, f.age_days, f.sex, kb)


def test_bench_labs_warm(benchmark):
    kb, f = load_kb(), _findings()
    _run(kb, f)
    readings, _ = benchmark(_run, kb, f)
    assert len(readings) == 5


def test_bench_labs_cold_baseline(benchmark):
    kb, f = load_kb(), _findings()

    def cold():
        kb.cache.pop("labs", None)
        return _run(kb, f)

    readings, _ = benchmark(cold)
    assert len(readings) == 5
