"""Choosing a reference interval: band edges exactly at the edge day, sex differences, NE rows, unknown age/sex.

Worked values (clinical-notes.md 4.1): Quest/Adventist total calcium 0-7 d female 7.8-11.2 mg/dL, 8-30 d female
8.6-11.8 mg/dL; Mayo/Iowa ALP 13-<15 y female 57-254, male 116-468 U/L; Mayo phosphate 10 y female 4.0-5.2,
male 3.7-5.4 mg/dL. Bands are [age_low_days, age_high_days) with 1 y = 365.25 d.
"""

from __future__ import annotations

import pytest

from calcinosis.core.labs import pick_interval, read_labs
from calcinosis.core.model import LabResult
from calcinosis.kb import load_kb

KB = load_kb()
Y = 365.25
CA = 0.2495
P = 0.3229


def one(analyte, value, unit, age, sex=None, **kw):
    readings, _ = read_labs([LabResult(analyte=analyte, value=value, unit=unit, where="t: labs[0]", **kw)],
                            age, sex, KB)
    assert len(readings) == 1
    return readings[0]


def test_labs_calcium_band_edge_at_day_8():
    before, _ = pick_interval("calcium_total", 7.999, "female", KB)
    at, _ = pick_interval("calcium_total", 8.0, "female", KB)
    assert (before.low, before.high) == pytest.approx((7.8 * CA, 11.2 * CA))
    assert (at.low, at.high) == pytest.approx((8.6 * CA, 11.8 * CA))
    assert before.source == at.source == "qadv_ca"
    # 8.0 mg/dL is normal on day 7 and low from day 8
    assert one("calcium", 8.0, "mg/dL", 7.999, "female").flag == "normal"
    assert one("calcium", 8.0, "mg/dL", 8.0, "female").flag == "low"


def test_labs_alp_sex_difference_from_13_years_exactly():
    edge = 13 * Y
    f = one("alkaline phosphatase", 300, "U/L", edge, "female")
    m = one("alkaline phosphatase", 300, "U/L", edge, "male")
    assert (f.flag, m.flag) == ("high", "normal")
    assert (f.interval.low, f.interval.high) == (57, 254)
    assert (m.interval.low, m.interval.high) == (116, 468)
    # one day earlier both sexes share 129-417
    assert one("ALP", 300, "U/L", edge - 0.01, "female").flag == "normal"
    assert one("ALP", 300, "U/L", edge - 0.01, "female").interval.sex == "both"


def test_labs_phosphate_sex_difference_at_10_years():
    f = one("phosphorus", 3.8, "mg/dL", 10 * Y, "female")
    m = one("phosphorus", 3.8, "mg/dL", 10 * Y, "male")
    assert f.flag == "low" and m.flag == "normal"
    assert f.interval.low == pytest.approx(4.0 * P) and m.interval.low == pytest.approx(3.7 * P)
    assert f.interval.source == m.interval.source == "mayo_phos"


def test_labs_ne_row_falls_back_to_next_source_and_says_so():
    iv, why = pick_interval("phosphate", 100, "male", KB)  # Mayo: NE under 12 months
    assert why is None
    assert iv.source == "qadv_p"
    assert (iv.low, iv.high) == pytest.approx((3.1 * P, 6.6 * P))
    assert "NE" in iv.note


def test_labs_sex_unknown_takes_widest_of_female_and_male():
    # 7-month-old: Quest/Adventist 6-11 mo female 8.1-11.0, male 8.0-10.9 -> 8.0-11.0
    iv, _ = pick_interval("calcium_total", 7 * 30.4375, None, KB)
    assert (iv.low, iv.high) == pytest.approx((8.0 * CA, 11.0 * CA))
    assert "sex unknown" in iv.note


def test_labs_unknown_age_assumes_no_interval():
    r = one("calcium", 9.8, "mg/dL", None)
    assert r.flag == "not_interpretable" and r.interval is None
    assert r.value_si == pytest.approx(2.4451)
    assert "age unknown" in r.note
    r2 = one("calcium", 9.8, "mg/dL", None, reported_as="normal")
    assert (r2.flag, r2.flag_basis) == ("normal", "reported")


def test_labs_adult_and_130_year_edge_are_covered():
    for analyte in ("calcium_total", "phosphate", "alp", "pth", "vitd25", "creatinine", "albumin", "magnesium",
                    "calcium_ionized"):
        for sex in ("female", "male"):
            iv, why = pick_interval(analyte, 130 * Y - 0.5, sex, KB)
            assert iv is not None, (analyte, sex, why)


def test_labs_interval_in_si_units_from_mixed_source_units():
    # St Boniface albumin rows are in g/L, Quest/Adventist in g/dL: both end up in g/L
    iv, _ = pick_interval("albumin", 20 * Y, "female", KB)
    assert iv.unit == "g/L" and (iv.low, iv.high) == pytest.approx((34, 50))


def test_labs_reporting_laboratory_range_wins_over_table():
    r = one("calcium", 2.7, "mmol/L", 20 * Y, "female", reference_range="2.10-2.60 mmol/L")
    assert (r.flag, r.flag_basis) == ("high", "laboratory_interval")
    r = one("calcium", 10.4, "mg/dL", 20 * Y, "female", ref_low=8.5, ref_high=10.2)
    assert r.flag == "high" and r.interval.high == pytest.approx(10.2 * CA)


def test_labs_reported_flag_kept_when_table_disagrees():
    r = one("calcium", 2.56, "mmol/L", 17 * Y, "male", reported_as="high")
    assert r.flag == "high" and r.flag_basis == "reported"
    assert "gives 'normal'" in r.note
