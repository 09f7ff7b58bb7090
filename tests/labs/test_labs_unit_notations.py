"""Old unit notations and assay-specific units are read, not refused."""

from __future__ import annotations

import pytest

from calcinosis.core.labs import check_labs, read_labs
from calcinosis.core.model import LabResult


@pytest.mark.parametrize("analyte,value,unit,si", [
    ("calcium", 9.5, "mg%", 2.370),          # "mg per cent" = mg/dL; 9.5 / 4.008
    ("phosphate", 5.0, "mg/100 mL", 1.6145),  # mg/100 mL = mg/dL; 5 x 0.3229
    ("albumin", 4.0, "g%", 40.0),             # g/dL x 10 = g/L
])
def test_old_notations_are_mg_per_dl(kb, analyte, value, unit, si):
    lab = LabResult(analyte=analyte, value=value, unit=unit, reported_as="value", where="t")
    assert [i for i in check_labs([lab], kb) if i.level == "error"] == []
    r = read_labs([lab], 3000, "female", kb)[0][0]
    assert r.value_si == pytest.approx(si, rel=1e-3)


def test_generic_name_with_an_assay_unit_picks_that_assay(kb):
    lab = LabResult(analyte="FGF23", value=50, unit="RU/mL", reported_as="value", where="t")
    assert check_labs([lab], kb) == []
    assert read_labs([lab], 3000, "female", kb)[0][0].label == "FGF23 (C-terminal)"
