"""Benchmark: reading the 18 dev FHIR Bundles, side by side with baselines in one run.
Run: pytest benchmarks/bench_fhir.py --benchmark-only --benchmark-group-by=group
Variants: read_bundle with R4B validation; read_bundle without; the bare R4B model_validate of the same
resources (the validation floor); read_case of the 18 equivalent case files (the simplest reader).
Compare the means as ratios; absolute times on a 2-core VM vary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from calcinosis.io.case import read_case
from calcinosis.io.fhir_in import read_bundle
from calcinosis.kb import load_kb

_SHARED = Path(os.environ.get("CALCINOSIS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DEV = _SHARED / "cases"
AS_OF = "2026-11-24"


def _load(sub):
    return [(p.name, json.loads(p.read_text())) for p in sorted((DEV / sub).glob("*.json"))]


@pytest.fixture(scope="module")
def data():
    bundles, cases = _load("dev-fhir"), _load("dev")
    if len(bundles) != 18:
        pytest.skip("dev cases not found")
    return load_kb(), bundles, cases


@pytest.mark.benchmark(group="fhir-read")
def test_bench_read_bundle_validated(benchmark, data):
    kb, bundles, _ = data
    out = benchmark(lambda: [read_bundle(b, n, as_of=AS_OF, kb=kb) for n, b in bundles])
    assert len(out) == 18


@pytest.mark.benchmark(group="fhir-read")
def test_bench_read_bundle_unvalidated(benchmark, data):
    kb, bundles, _ = data
    out = benchmark(lambda: [read_bundle(b, n, as_of=AS_OF, kb=kb, validate=False) for n, b in bundles])
    assert len(out) == 18


@pytest.mark.benchmark(group="fhir-read")
def test_bench_r4b_validation_floor(benchmark, data):
    from fhir.resources.R4B import get_fhir_model_class

    _, bundles, _ = data
    resources = [e["resource"] for _, b in bundles for e in b["entry"]]
    classes = [get_fhir_model_class(r["resourceType"]) for r in resources]
    out = benchmark(lambda: [c.model_validate(r) for c, r in zip(classes, resources)])
    assert len(out) == len(resources)


@pytest.mark.benchmark(group="fhir-read")
def test_bench_read_case_baseline(benchmark, data):
    _, _, cases = data
    out = benchmark(lambda: [read_case(c, n) for n, c in cases])
    assert len(out) == 18
