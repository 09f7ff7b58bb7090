"""Reading lab results: recognition, panels, errors, derived values, and the real published cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from calcinosis.core.labs import analyte_status, check_labs, parse_range, read_labs, resolve_analyte
from calcinosis.core.model import LabReading, LabResult
from calcinosis.io.case import read_case
from calcinosis.kb import load_kb

KB = load_kb()
ROOT = Path(__file__).resolve().parents[2]
CASES = Path(os.environ.get("CALCINOSIS_SHARED", ROOT.parent / "shared")) / "cases" / "dev"
Y = 365.25


def case(name):
    return read_case(json.loads((CASES / f"{name}.json").read_text()), f"{name}.json")


def by(readings, analyte):
    return [r for r in readings if r.analyte == analyte]


@pytest.mark.parametrize("name, loinc, expected", [
    ("Ca", None, ("calcium_total",)),
    ("serum calcium", None, ("calcium_total",)),
    ("Calcium (adjusted)", None, ("calcium_total",)),
    ("corrected calcium", None, ("calcium_total",)),
    ("inorganic phosphate", None, ("phosphate",)),
    ("Serum Phosphate", None, ("phosphate",)),
    ("25-OH vitamin D", None, ("vitd25",)),
    ("25-dihydroxy-vitamin D", None, ("vitd25",)),        # common misprint for 25-OH D
    ("1,25-(OH)2 vitamin D", None, ("vitd125",)),
    ("calcitriol", None, ("vitd125",)),
    ("intact PTH", None, ("pth",)),
    ("parathyroid hormone", None, ("pth",)),
    ("blood urea", None, ("urea",)),
    ("BUN", None, ("urea",)),
    ("anti-Jo-1 antibody", None, ("anti_jo1",)),
    ("muscle enzymes", None, ("ck", "aldolase")),
    ("fasting lipid profile", None, ("cholesterol_total", "ldl", "hdl", "triglycerides")),
    ("kidney function", None, ("creatinine", "urea")),
    ("calcium/phosphorus metabolism", None, ("calcium_total", "phosphate")),
    ("serum calcium level", None, ("calcium_total",)),
    ("retroviral screen", None, ()),
    ("phosphate", "2000-8", ("calcium_total",)),          # LOINC wins over the name
    ("whatever", "14866-8", ("pth",)),
    ("calcium", "0000-0", ("calcium_total",)),            # unknown LOINC: the name decides
])
def test_labs_resolve_analyte(name, loinc, expected):
    assert resolve_analyte(name, loinc, KB) == expected


# ---- errors and warnings --------------------------------------------------------------------

def codes(labs):
    return [(i.level, i.code, i.where) for i in check_labs(labs, KB)]


def test_labs_negative_value_is_impossible():
    issues = check_labs([LabResult("calcium", -2.0, "mmol/L", where="c.json: labs[0]")], KB)
    assert [(i.level, i.code, i.where) for i in issues] == [("error", "IMPOSSIBLE_VALUE", "c.json: labs[0].value")]
    assert "calcium" in issues[0].message and "negative" in issues[0].message and issues[0].suggestion


def test_labs_absurd_value_after_conversion_is_impossible():
    issues = check_labs([LabResult("serum calcium", 45, "mmol/L", where="c.json: labs[1]")], KB)
    assert issues[0].code == "IMPOSSIBLE_VALUE" and issues[0].where == "c.json: labs[1].value"
    assert "physiologically possible" in issues[0].message and "mmol/L" in issues[0].message
    # 45 mg/dL = 11.2 mmol/L is impossible too; 4.5 mg/dL = 1.12 mmol/L is possible (severe hypocalcaemia)
    assert [c[1] for c in codes([LabResult("calcium", 45, "mg/dL", where="x")])] == ["IMPOSSIBLE_VALUE"]
    assert codes([LabResult("calcium", 4.5, "mg/dL", where="x")]) == []


def test_labs_unit_that_does_not_fit_the_analyte():
    issues = check_labs([LabResult("calcium", 9.8, "U/L", where="c.json: labs[2]")], KB)
    assert [(i.code, i.where) for i in issues] == [("UNIT_MISMATCH", "c.json: labs[2].unit")]
    assert "mg/dL" in issues[0].suggestion and "'U/L'" in issues[0].message


def test_labs_unknown_unit_for_recognised_analyte():
    issues = check_labs([LabResult("PTH", 40, "furlongs/fortnight", where="c.json: labs[3]")], KB)
    assert [(i.level, i.code, i.where) for i in issues] == [("error", "UNKNOWN_UNIT", "c.json: labs[3].unit")]
    assert "pg/mL" in issues[0].suggestion


def test_labs_method_bound_unit_is_recognised_but_never_converted():
    """King-Armstrong units (old ALP assays) have no fixed factor to U/L: a warning, not a refusal, and the
    number is not read against the interval (a converted 18 KAU would be a false 'low' ALP in a child)."""
    lab = LabResult("Alkaline phosphatase", 18, "K.A. units", reported_as="normal", where="c.json: labs[2]")
    issues = check_labs([lab], KB)
    assert [(i.level, i.code, i.where) for i in issues] == [("warning", "UNCONVERTIBLE_UNIT", "c.json: labs[2].unit")]
    (r,), _ = read_labs([lab], 9 * Y, "female", KB)
    assert (r.analyte, r.flag, r.flag_basis, r.value_si) == ("alp", "normal", "reported", None)
    assert "no fixed conversion" in r.note
    (r,), _ = read_labs([LabResult("ALP", 18, "KAU")], 9 * Y, "female", KB)
    assert r.flag == "not_interpretable"


@pytest.mark.parametrize("unit", ["mm in 1 hr", "mm in 1st hour", "mm at the first hour", "mm/1st hr"])
def test_labs_esr_unit_wordings(unit):
    assert check_labs([LabResult("ESR", 8, unit)], KB) == []
    (r,), _ = read_labs([LabResult("ESR", 8, unit)], 9 * Y, "female", KB)
    assert r.value_si == 8


def test_labs_number_without_unit_is_a_warning_and_not_interpretable():
    lab = LabResult("calcium", 9.8, None, where="c.json: labs[4]")
    assert codes([lab]) == [("warning", "MISSING_UNIT", "c.json: labs[4].unit")]
    (r,), _ = read_labs([lab], 200, "female", KB)
    assert r.flag == "not_interpretable" and "no unit" in r.note
    (r,), _ = read_labs([LabResult("calcium", 9.8, None, reported_as="normal")], 200, "female", KB)
    assert (r.flag, r.flag_basis) == ("normal", "reported")


def test_labs_unrecognised_analytes_are_never_errors():
    labs = [LabResult("white cell morphology", 9740, "x 10^3/mm^3", where="a"),
            LabResult("retroviral screen", None, None, reported_as="normal", where="b"),
            LabResult("base excess", -4.0, "mmol/L", where="c")]
    assert [i for i in check_labs(labs, KB) if i.level == "error"] == []
    readings, _ = read_labs(labs, 100, None, KB)
    assert [r.analyte for r in readings] == ["unrecognised"] * 3
    assert [r.flag for r in readings] == ["not_interpretable", "normal", "not_interpretable"]


def test_labs_inverted_laboratory_range_is_refused():
    issues = check_labs([LabResult("PTH", 40, "pg/mL", reference_range="65-12 pg/mL", where="c.json: labs[0]")], KB)
    assert [(i.code, i.where) for i in issues] == [("IMPOSSIBLE_VALUE", "c.json: labs[0].reference_range")]


def test_labs_parse_range_forms():
    assert parse_range("1.6-2.2 mmol/L") == (1.6, 2.2, "mmol/L")
    assert parse_range("12–65 ng/L") == (12, 65, "ng/L")
    assert parse_range("< 5 mg/L") == (None, 5, "mg/L")
    assert parse_range("normal") is None


# ---- panels, qualitative results ------------------------------------------------------------

def test_labs_panel_reported_normal_gives_one_reading_per_member():
    readings, _ = read_labs([LabResult("lipid profile", reported_as="normal", where="l")], 200, None, KB)
    assert [r.analyte for r in readings] == ["cholesterol_total", "ldl", "hdl", "triglycerides"]
    assert {(r.flag, r.flag_basis, r.panel) for r in readings} == {("normal", "panel_reported_normal",
                                                                     "lipid profile")}


def test_labs_biochemistry_panel_is_read_conservatively():
    readings, _ = read_labs([LabResult("biochemical investigations", reported_as="normal")], 400, None, KB)
    assert {r.analyte for r in readings} == {"calcium_total", "creatinine", "urea", "glucose"}
    assert analyte_status(readings, "phosphate") == "not_measured"
    assert "conservative" in readings[0].note


def test_labs_qualitative_antibody():
    (r,), _ = read_labs([LabResult("anti-Jo-1 antibody", "positive", reported_as="value")], 84 * 30.4, "female", KB)
    assert (r.analyte, r.flag, r.flag_basis) == ("anti_jo1", "positive", "reported")
    (r,), _ = read_labs([LabResult("ANA", "Negative")], None, None, KB)
    assert r.flag == "negative"


# ---- derived values -------------------------------------------------------------------------

def test_labs_corrected_calcium_payne():
    # 2.00 mmol/L + 0.02 x (40 - 30 g/L) = 2.20 mmol/L; albumin given as 3.0 g/dL = 30 g/L
    labs = [LabResult("calcium", 2.0, "mmol/L"), LabResult("albumin", 3.0, "g/dL")]
    _, derived = read_labs(labs, 20 * Y, "female", KB)
    cc = next(d for d in derived if d.id == "corrected_calcium")
    assert cc.value == pytest.approx(2.2) and cc.unit == "mmol/L"
    assert cc.flag == "normal" and "payne_cc" in cc.sources


@pytest.mark.parametrize("age_years, ca, p, flag", [
    (5, 10, 7, "high"),      # 70 >= 65 (under 12 y)
    (5, 10, 6, "normal"),    # 60 < 65
    (13, 10, 6, "high"),     # 60 >= 55 (12 y and over)
    (None, 10, 6, None),     # age unknown: not flagged
])
def test_labs_calcium_phosphate_product_age_thresholds(age_years, ca, p, flag):
    labs = [LabResult("calcium", ca, "mg/dL"), LabResult("phosphorus", p, "mg/dL")]
    _, derived = read_labs(labs, None if age_years is None else age_years * Y, "male", KB)
    (prod,) = [d for d in derived if d.id == "calcium_phosphate_product"]
    assert prod.value == pytest.approx(ca * p, rel=1e-6) and prod.unit == "mg2/dL2"
    assert prod.flag == flag


# ---- analyte_status -------------------------------------------------------------------------

def reading(analyte, flag):
    return LabReading(analyte=analyte, label=analyte, reported_name=analyte, loinc=None, value=None, unit=None,
                      value_si=None, unit_si=None, reported_as=None, flag=flag, interval=None, flag_basis="reported")


def test_labs_analyte_status_combines_readings():
    assert analyte_status([], "pth") == "not_measured"
    assert analyte_status([reading("pth", "normal"), reading("pth", "high")], "pth") == "high"
    assert analyte_status([reading("pth", "low"), reading("pth", "high")], "pth") == "abnormal"
    assert analyte_status([reading("ana", "negative"), reading("ana", "positive")], "ana") == "positive"
    assert analyte_status([reading("pth", "not_interpretable")], "pth") == "not_interpretable"
    # ionised calcium stands in for total calcium only when total calcium is missing
    assert analyte_status([reading("calcium_ionized", "high")], "calcium_total") == "high"
    assert analyte_status([reading("calcium_total", "normal"), reading("calcium_ionized", "high")],
                          "calcium_total") == "normal"


# ---- real published cases through the case reader -------------------------------------------

def test_labs_seed_case_all_six_reported_normal_at_7_months():
    f = case("randhawa2018-seed")
    assert check_labs(f.labs, KB) == []
    readings, derived = read_labs(f.labs, f.age_days, f.sex, KB)
    for aid in ("calcium_total", "phosphate", "alp", "vitd25", "pth", "cholesterol_total", "ldl", "hdl",
                "triglycerides"):
        assert analyte_status(readings, aid) == "normal", aid
    assert {r.flag for r in readings} == {"normal"} and derived == ()
    assert [r.analyte for r in readings if r.panel] == ["cholesterol_total", "ldl", "hdl", "triglycerides"]


def test_labs_scfn_case_hypercalcaemia_and_low_pth_against_lab_range():
    f = case("eurjpediatr2008-scfn")
    assert check_labs(f.labs, KB) == []
    readings, _ = read_labs(f.labs, f.age_days, f.sex, KB)
    (ca,) = by(readings, "calcium_total")
    assert (ca.flag, ca.flag_basis, ca.interval.source) == ("high", "value_vs_interval", "qadv_ca")
    (pth,) = by(readings, "pth")
    assert (pth.flag, pth.flag_basis) == ("low", "laboratory_interval")
    assert pth.value_si == pytest.approx(3 * 0.1061) and pth.unit_si == "pmol/L"
    assert analyte_status(readings, "vitd125") == "high"
    assert analyte_status(readings, "phosphate") == "low"


def test_labs_timmis_case_phosphate_high_at_17_years():
    f = case("timmis2010-calciphylaxis-17y")
    readings, derived = read_labs(f.labs, f.age_days, f.sex, KB)
    (p,) = by(readings, "phosphate")
    assert (p.flag, p.flag_basis) == ("high", "value_vs_interval")
    assert p.value_si == pytest.approx(3.32) and p.interval.high == pytest.approx(4.7 * 0.3229)
    assert next(d for d in derived if d.id == "calcium_phosphate_product").flag == "high"


def test_labs_every_dev_case_passes_checks_without_errors():
    for path in sorted(CASES.glob("*.json")):
        f = read_case(json.loads(path.read_text()), path.name)
        errors = [i for i in check_labs(f.labs, KB) if i.level == "error"]
        assert errors == [], path.name
        readings, _ = read_labs(f.labs, f.age_days, f.sex, KB)
        assert len(readings) >= len(f.labs)


def test_labs_module_is_pure_and_light():
    code = ("import sys, calcinosis.core.labs; "
            "bad = [m for m in ('yaml', 'fastapi', 'sqlalchemy', 'pyspark', 'pint', 'duckdb', 'pyhpo') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize("name", ["aspirated collection calcium and phosphorus", "pleural fluid calcium",
                                  "drain fluid phosphate", "lesion aspirate calcium"])
def test_labs_a_non_blood_specimen_is_not_the_serum_analyte(name):
    """Calcium measured in the lesion's aspirate or another fluid says nothing about serum calcium."""
    assert resolve_analyte(name, None, KB) == ()


@pytest.mark.parametrize("name", ["calcium (at lesion onset)", "total calcium (albumin content corrected)",
                                  "calcium (fasting collection)"])
def test_labs_qualifiers_about_timing_or_method_keep_the_serum_analyte(name):
    assert resolve_analyte(name, None, KB) == ("calcium_total",)
