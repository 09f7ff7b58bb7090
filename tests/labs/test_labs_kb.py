"""Laboratory knowledge: census, and validators that report every problem naming file and entry."""

from __future__ import annotations

import copy

import pytest

from calcinosis.kb import census, load_kb
from calcinosis.kb.loader import _data_dir, read_dir
from calcinosis.kb.validate_labs import COVERAGE_REQUIRED, REQUIRED_ANALYTES, labs_analytes, labs_intervals


@pytest.fixture(scope="module")
def data():
    d, problems, _, _ = read_dir(_data_dir())
    assert problems == []
    return d


def test_labs_census_pins_counts():
    kb = load_kb()
    c = census(kb)
    assert c["analytes.analytes"] == 31
    assert c["analytes.panels"] == 7
    assert c["analytes.derived"] == 2
    assert c["reference_intervals"] == 219


def test_labs_shipped_knowledge_is_valid(data):
    assert labs_analytes(data) == []
    assert labs_intervals(data) == []


def test_labs_every_required_analyte_present_with_loinc_or_note(data):
    by_id = {a["id"]: a for a in data["analytes"]["analytes"]}
    assert set(REQUIRED_ANALYTES) <= set(by_id)
    for aid in REQUIRED_ANALYTES:
        a = by_id[aid]
        assert a["loinc"] or a.get("loinc_note"), aid
        assert a["sources"], aid


def test_labs_every_interval_row_and_analyte_cites_known_references(data):
    refs = data["references"]
    for row in data["reference_intervals"]:
        for sid in row["source"].split(";"):
            assert sid in refs, (row, sid)
    for a in data["analytes"]["analytes"]:
        for sid in a["sources"]:
            assert sid in refs, (a["id"], sid)


def test_labs_validator_reports_all_problems_at_once_naming_entries(data):
    bad = copy.deepcopy(data)
    an = bad["analytes"]["analytes"]
    ca = next(a for a in an if a["id"] == "calcium_total")
    ca["units"]["mg/dL"] = -0.25          # non-positive factor
    ca["sources"] = []                     # no sources
    phos = next(a for a in an if a["id"] == "phosphate")
    phos["synonyms"].append("calcium")     # collides with calcium_total
    bad["analytes"]["panels"][0]["analytes"].append("unobtainium")
    problems = labs_analytes(bad)
    assert any("analytes[calcium_total]" in p and "mg/dL" in p and "positive" in p for p in problems)
    assert any("analytes[calcium_total]" in p and "no sources" in p for p in problems)
    assert any("'calcium'" in p and "phosphate" in p for p in problems)
    assert any("unknown analyte 'unobtainium'" in p for p in problems)
    assert all(p.startswith("analytes.yaml") for p in problems)


def test_labs_interval_validator_finds_gaps_bad_units_and_inverted_limits(data):
    bad = copy.deepcopy(data)
    rows = bad["reference_intervals"]
    # drop the Quest/Adventist 1-3 y calcium row: 1-4 y stays covered by Mayo (lower priority) -> no gap
    # but drop every phosphate row that covers a 5-year-old boy -> a gap for males
    rows[:] = [r for r in rows if not (r["analyte"] == "phosphate" and float(r["age_low_days"]) <= 5 * 365.25
                                       < float(r["age_high_days"]) and r["sex"] in ("male", "both"))]
    first_ca = next(r for r in rows if r["analyte"] == "calcium_total")
    first_ca["unit"] = "U/L"
    first_alp = next(r for r in rows if r["analyte"] == "alp")
    first_alp["lower"], first_alp["upper"] = "300", "100"
    problems = labs_intervals(bad)
    assert any(p.startswith("reference_intervals.csv: phosphate (male): no row covers") for p in problems)
    assert not any("phosphate (female)" in p for p in problems)
    assert any("line 2 (calcium_total)" in p and "'U/L' is not a unit of calcium_total" in p for p in problems)
    assert any("(alp)" in p and "lower 300 is not below upper 100" in p for p in problems)


def test_labs_plausible_range_must_contain_intervals(data):
    bad = copy.deepcopy(data)
    row = next(r for r in bad["reference_intervals"] if r["analyte"] == "pth" and r["unit"] == "pg/mL"
               and r["lower"] != "NE")
    row["upper"] = "100000"  # 100000 pg/mL = 10610 pmol/L, beyond 1100
    assert any("outside the plausible range" in p for p in labs_intervals(bad))


def test_labs_coverage_required_analytes_all_have_rows(data):
    have = {r["analyte"] for r in data["reference_intervals"]}
    assert set(COVERAGE_REQUIRED) <= have
