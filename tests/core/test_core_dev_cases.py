"""The published development cases (../shared/cases/dev) against their answer key, and the founding case."""

from __future__ import annotations

import json

import pytest

from calcinosis.cli.evaluate import evaluate_dir
from calcinosis.core.assess import assess
from calcinosis.io.read import read_path
from calcinosis.render.json_out import to_dict


@pytest.fixture(scope="module")
def report(cases_dir, expected):
    return evaluate_dir(cases_dir / "dev", expected)


def test_type_accuracy_at_least_17_of_18(report):
    assert report["cases"] == 18
    assert report["type_correct"] >= 17, [r for r in report["rows"] if not r["type_ok"]]


def test_every_subtype_hit(report):
    misses = [r for r in report["rows"] if r["subtype_ok"] is False]
    assert report["subtype_cases"] == 11
    assert not misses


def test_never_watchful_waiting_where_unsafe(report):
    assert report["unsafe_waiting_cases"] == 7
    assert report["watchful_waiting_where_unsafe"] == 0


def test_founding_case_reads_as_the_letter_concluded(cases_dir, kb):
    a = assess(read_path(cases_dir / "dev" / "randhawa2018-seed.json", kb=kb), kb)
    c = a.classification
    assert (c.type, c.subtype) == ("idiopathic", "tumoral_calcinosis")
    assert c.certainty == "confirmed"
    assert a.management.strategy == "watchful_waiting"
    fu = a.management.follow_up
    assert fu is not None and len(fu.visits) >= 2 and fu.visits[0]["after_months"] == 1
    assert {rf["id"] for rf in fu.red_flags} >= {"ulceration", "infection", "abnormal_labs", "growth_after_window"}
    by = {r.analyte: r for r in a.labs}
    for analyte in ("calcium_total", "phosphate", "alp", "vitd25", "pth"):
        assert by[analyte].flag == "normal"
    assert [w.id for w in a.missing_workup if w.essential] == []
    # every reason cites a known source
    assert all(r.sources for r in c.reasons)
    assert set(a.sources) >= {"seed_randhawa2018"}


def test_output_validates_against_the_json_schema(cases_dir, kb):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    from importlib import resources

    schema = json.loads((resources.files("calcinosis") / "schemas" / "assessment.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    for path in sorted((cases_dir / "dev").glob("*.json")):
        d = to_dict(assess(read_path(path, kb=kb), kb))
        errors = [str(e) for e in validator.iter_errors(d)]
        assert not errors, (path.name, errors[:3])


def test_mimic_has_no_watchful_waiting_when_hypercalcaemic(cases_dir, kb):
    a = assess(read_path(cases_dir / "dev" / "eurjpediatr2008-scfn.json", kb=kb), kb)
    assert a.classification.subtype == "subcutaneous_fat_necrosis"
    assert a.management.strategy == "medical"
