"""Every hand-written vignette assesses the same read as a case file and as a FHIR Bundle.

The Bundle is made by the test helper ``case_to_bundle`` (the conventions of the shared ``dev-fhir`` Bundles,
reverse-engineered; see its docstring), so this probes the FHIR reader beyond the 18 dev Bundles: LOINC codes and
UCUM units, interpretation-only results, refuted Conditions, free-text Conditions, lesion notes, ages from a
birth date. ``ctd_codes=False`` writes the connective-tissue disease as an uncoded problem-list entry.
No vignette is excluded: all agree on type, subtype and strategy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from case_to_bundle import case_to_bundle

from calcinosis.io.case import read_case
from calcinosis.io.fhir_in import read_bundle

VIGNETTES = sorted((Path(__file__).parents[1] / "core" / "vignettes").glob("*.json"))
AS_OF = "2026-11-24"
# Vignettes whose Bundle cannot say what the case file says (converter limitations), with the reason.
EXCLUDED: dict[str, str] = {}


def _case(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}


def test_vignettes_are_there():
    assert len(VIGNETTES) >= 200


@pytest.mark.parametrize("ctd_codes", [True, False], ids=["ctd-coded", "ctd-text"])
@pytest.mark.parametrize("path", [p for p in VIGNETTES if p.stem not in EXCLUDED], ids=lambda p: p.stem)
def test_bundle_assesses_like_the_case_file(path, ctd_codes, fhir_kb):
    from calcinosis.core.assess import assess
    from calcinosis.render.json_out import to_dict

    case = _case(path)
    fc = read_case(case, str(path))
    fb = read_bundle(case_to_bundle(case, kb=fhir_kb, ctd_codes=ctd_codes), path.name, as_of=AS_OF, kb=fhir_kb)
    a = to_dict(assess(fc, fhir_kb, as_of=AS_OF))
    b = to_dict(assess(fb, fhir_kb, as_of=AS_OF))
    assert b["classification"]["type"] == a["classification"]["type"]
    assert b["classification"]["subtype"] == a["classification"]["subtype"]
    assert b["management"]["strategy"] == a["management"]["strategy"]
    # nothing in a converted Bundle is ignored (a case without an age has a Patient without birthDate, and says so)
    expected = () if case.get("age_months") is not None else (f"Patient/{case['id']}: no birthDate: age unknown",)
    assert fb.notes == expected


DEV = Path("/work/shared/cases")
DEV_NAMES = sorted(p.stem for p in (DEV / "dev-fhir").glob("*.json")) if (DEV / "dev-fhir").is_dir() else []


@pytest.mark.skipif(not DEV_NAMES, reason="the shared dev cases are not on this machine")
@pytest.mark.parametrize("name", DEV_NAMES)
def test_converter_matches_the_official_dev_bundles(name, fhir_kb):
    """The helper's Bundle of a dev case file assesses like the official dev-fhir Bundle (the helper is faithful)."""
    from calcinosis.core.assess import assess
    from calcinosis.render.json_out import to_dict

    case = json.loads((DEV / "dev" / f"{name}.json").read_text())
    official = json.loads((DEV / "dev-fhir" / f"{name}.json").read_text())
    mine = read_bundle(case_to_bundle(case, kb=fhir_kb), "mine.json", as_of=AS_OF, kb=fhir_kb)
    theirs = read_bundle(official, "dev.json", as_of=AS_OF, kb=fhir_kb)
    a, b = to_dict(assess(mine, fhir_kb, as_of=AS_OF)), to_dict(assess(theirs, fhir_kb, as_of=AS_OF))
    for key in ("type", "subtype", "certainty"):
        assert a["classification"][key] == b["classification"][key], key
    assert a["management"]["strategy"] == b["management"]["strategy"]
    assert sorted((r["analyte"], r["flag"]) for r in a["labs"]) == sorted((r["analyte"], r["flag"]) for r in b["labs"])
    assert mine.history == theirs.history and mine.lesion == theirs.lesion
