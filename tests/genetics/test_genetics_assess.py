"""Assessments of phenopackets (needs core.assess): no skin lesion said plainly; fixtures read as their type."""

from __future__ import annotations

from pathlib import Path

import pytest

assess_mod = pytest.importorskip("calcinosis.core.assess")

from calcinosis.io.read import read_path
from calcinosis.kb import load_kb

FIX = Path(__file__).parent / "fixtures"
REAL = sorted(Path("/work/shared/phenopackets").glob("*.json"))
# fixture -> acceptable (type, subtype word); HFTC: idiopathic/tumoral or metastatic (docs/genetics.md)
TYPES = {
    "rafaelsen2014_galnt3_brother": {"idiopathic", "metastatic"},
    "goldenstein2018_fgf23": {"idiopathic", "metastatic"},
    "manning2005_gnas_poh_14mo": {"mimic"},
    "lucas2020_pxe_12y": {"dystrophic"},
}


@pytest.fixture(scope="module")
def kb():
    return load_kb()


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_real_phenopackets_say_no_skin_calcification(kb, path):
    a = assess_mod.assess(read_path(path, kb=kb), kb)
    assert a.lesion_described is False
    assert a.classification.type is None
    assert "no" in a.classification.summary.lower()




@pytest.mark.parametrize("stem", sorted(TYPES))
def test_fixture_assessment_type(kb, stem):
    a = assess_mod.assess(read_path(FIX / f"{stem}.json", kb=kb), kb)
    assert a.classification.type in TYPES[stem], a.classification.summary
    if stem == "manning2005_gnas_poh_14mo":
        assert "osteoma" in (a.classification.subtype or "") + (a.classification.subtype_label or "").lower()
