"""Old unit notations and assay-specific units are read, not refused."""

from __future__ import annotations

import pytest

from calcinosis.core.labs import check_labs, read_labs
from calcinosis.core.model import LabResult


@pytest.mark.parametrize("analyte,value,unit,si", [
    ("calcium", 9.5, "mg%", 2.370),          # "mg per cent" = mg/dL; 9.5 / 4.008
    ("phosphate", 5.0, "mg/100 mL", 1.6145),  # mg/100 mL = mg/dL; 5 x 0.3229
    ("albumin", 4.0, "g%", 40.0),             # g/dL x 10 = g/L
    ("albumin", 4.0, "gm/dl", 40.0),          # "gm" for g
    ("albumin", 4.0, "gm%", 40.0),
    ("calcium", 9.5, "mg/dl.", 2.370),        # printed at the end of a sentence
    ("creatinine", 44.2, "micromol/L", 44.2),  # spelled out
    ("creatinine", 44.2, "micromoles per litre", 44.2),
    ("pth", 40, "picograms/mL", 4.244),      # pg/mL x 0.1061 = pmol/L
    ("alp", 200, "units/L", 200),
    ("alp", 3.0, "µkat/L", 180),              # 1 µkat/L = 60 U/L (1 U = 1 µmol/min)
    ("ck", 2.0, "ukat/L", 120),
    ("ck", 120, "UI/L", 120),                 # French, Spanish, Portuguese "UI" for IU
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
