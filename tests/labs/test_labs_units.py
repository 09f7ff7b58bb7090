"""Unit conversion to SI: worked examples from clinical-notes.md section 4.3 and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcinosis.core.labs import compile_labs, convert, from_si, unit_key
from calcinosis.kb import load_kb

KB = load_kb()


@pytest.mark.parametrize("value, unit, analyte, expected, si", [
    (9.8, "mg/dL", "calcium_total", 2.445, "mmol/L"),        # 9.8 x 0.2495 = 2.44510
    (5.0, "mEq/L", "calcium_total", 2.5, "mmol/L"),          # divalent: 1 mmol = 2 mEq
    (2.0, "mEq/L", "magnesium", 1.0, "mmol/L"),
    (4.0, "mg/dL", "phosphate", 1.2916, "mmol/L"),           # 4.0 x 0.3229
    (30, "ng/mL", "vitd25", 74.88, "nmol/L"),                # 30 x 2.496
    (65, "pg/mL", "pth", 6.8965, "pmol/L"),                  # 65 x 0.1061 (PMC7276095: 65 -> 6.9)
    (1.0, "mg/dL", "creatinine", 88.4, "umol/L"),
    (4.0, "g/dL", "albumin", 40.0, "g/L"),
    (200, "mg/dL", "cholesterol_total", 5.172, "mmol/L"),    # 200 x 0.02586
    (20, "mg/dL", "urea", 3.33, "mmol/L"),                   # urea 20 x 0.1665
    (9740, "/mm3", "wbc", 9.74, "10^9/L"),
    (3, "mg/dL", "crp", 30, "mg/L"),
    (39, "mm/hr", "esr", 39, "mm/h"),
])
def test_labs_worked_conversions(value, unit, analyte, expected, si):
    got, si_unit = convert(value, unit, analyte, KB)
    assert got == pytest.approx(expected, rel=2e-3)
    assert si_unit == si


def test_labs_pth_mass_units_are_equal_and_bun_differs_from_urea():
    assert convert(40, "pg/mL", "pth", KB)[0] == convert(40, "ng/L", "pth", KB)[0]
    bun = convert(14, "mg/dL", "urea", KB, form="urea_nitrogen")[0]
    urea = convert(14, "mg/dL", "urea", KB)[0]
    assert bun == pytest.approx(14 * 0.357) and urea == pytest.approx(14 * 0.1665)


@pytest.mark.parametrize("written, canonical", [
    ("mg/dl", "mg/dL"), ("MG/DL", "mg/dL"), ("mg / dL", "mg/dL"), ("µmol/L", "umol/L"), ("μmol/l", "umol/L"),
    ("[IU]/L", "IU/L"), ("mm/hr", "mm/h"), ("x10^9/L", "10^9/L"), ("10*9/L", "10^9/L"),
    ("mg/dL{calcium}", "mg/dL"), ("mEq/L", "meq/l"),
])
def test_labs_unit_matching_ignores_case_spacing_and_spelling(written, canonical):
    assert unit_key(written) == unit_key(canonical)


def _all_units():
    c = compile_labs(KB)
    return [(f.analyte, f.form, u) for f in c.forms.values() for u in f.unit_names]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_all_units()), st.floats(min_value=1e-3, max_value=1e5, allow_nan=False))
def test_labs_round_trip_through_si(triple, value):
    analyte, form, unit = triple
    si, _ = convert(value, unit, analyte, KB, form=form)
    assert from_si(si, unit, analyte, KB, form=form) == pytest.approx(value, rel=1e-9)
    assert si > 0


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_all_units()), st.randoms(use_true_random=False))
def test_labs_unit_key_is_case_and_space_insensitive(triple, rnd):
    _, _, unit = triple
    mangled = "".join((ch.upper() if rnd.random() < 0.5 else ch.lower()) + (" " if rnd.random() < 0.2 else "")
                      for ch in unit)
    assert unit_key(mangled) == unit_key(unit)
