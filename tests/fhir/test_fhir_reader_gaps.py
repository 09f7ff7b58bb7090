"""Reader gaps found by converting the vignettes to Bundles (test_fhir_vignette_equivalence.py), each fixed."""

from __future__ import annotations

from datetime import date

import pytest

from calcinosis.io.fhir_common import days_between
from calcinosis.io.fhir_in import read_bundle
from calcinosis.io.fhir_obs import ucum_as_written

AS_OF = "2026-11-24"


def _bundle(*resources):
    pat = {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "2026-05-24"}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (pat, *resources)]}


def _condition(text, ver="confirmed"):
    return {"resourceType": "Condition", "id": "c" + str(abs(hash(text)) % 10**6),
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": ver}]},
            "code": {"text": text}, "subject": {"reference": "Patient/p"}}


# ---- ages from a birth date count calendar months x 30.4375 days, as the case format does

@pytest.mark.parametrize("birth, at, days", [
    (date(2026, 5, 24), date(2026, 11, 24), 6 * 30.4375),     # 184 plain days; 6 months as a case file says
    (date(2024, 11, 24), date(2026, 11, 24), 24 * 30.4375),   # 730 plain days; 730.5 (two years)
    (date(1993, 11, 24), date(2026, 11, 24), 396 * 30.4375),
    (date(2026, 11, 12), date(2026, 11, 24), 12 / 30 * 30.4375),  # 12 of the 30 days to 12 December
    (date(2026, 1, 31), date(2026, 2, 28), 30.4375),           # end of month: one month
    (date(2026, 11, 24), date(2026, 11, 24), 0.0),
])
def test_days_between_counts_calendar_months(birth, at, days):
    assert days_between(birth, at) == pytest.approx(days)
    assert abs(days_between(birth, at) - (at - birth).days) <= 2.5


def test_six_month_old_is_a_young_infant_from_a_birth_date(fhir_kb):
    f = read_bundle(_bundle(), "b.json", as_of=AS_OF, kb=fhir_kb)
    assert f.age_days == pytest.approx(182.625)
    assert f.age_days < 183  # the age group "young infant" (types.yaml, max_days 183) as for age_months 6


# ---- UCUM codes with annotations or timed denominators read as reports write them

@pytest.mark.parametrize("code, written", [
    ("{RU}/mL", "RU/mL"), ("mL/min/{1.73_m2}", "mL/min/1.73m2"), ("mg/(24.h)", "mg/24h"),
    ("mmol/L", "mmol/L"), ("10*9/L", "10*9/L"), ("[IU]/L", "[IU]/L"),
])
def test_ucum_as_written(code, written):
    assert ucum_as_written(code) == written


def test_fgf23_in_ucum_annotated_units_is_converted(fhir_kb):
    from calcinosis.core.labs import read_labs

    obs = {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "FGF23 (C-terminal)"},
           "subject": {"reference": "Patient/p"},
           "valueQuantity": {"value": 950, "unit": "RU/mL", "system": "http://unitsofmeasure.org", "code": "{RU}/mL"}}
    f = read_bundle(_bundle(obs), "b.json", as_of=AS_OF, kb=fhir_kb)
    assert f.labs[0].unit == "RU/mL"
    readings, _ = read_labs(f.labs, f.age_days, f.sex, fhir_kb)
    assert readings[0].value_si == pytest.approx(950)


# ---- a connective-tissue disease named in a free-text Condition

@pytest.mark.parametrize("text", ["antisynthetase syndrome (anti-Jo-1 positive)",
                                  "limited cutaneous systemic sclerosis (CREST)",
                                  "adult dermatomyositis, anti-NXP2 positive", "JDM"])
def test_free_text_connective_tissue_disease(text, fhir_kb):
    f = read_bundle(_bundle(_condition(text)), "b.json", as_of=AS_OF, kb=fhir_kb)
    assert f.history.connective_tissue_disease == text
    assert text not in f.history.other_conditions


@pytest.mark.parametrize("text", ["no evidence of dermatomyositis", "end-stage renal disease due to lupus nephritis",
                                  "dermatomyositis suspected", "Raynaud's phenomenon"])
def test_negated_or_other_texts_are_not_a_connective_tissue_disease(text, fhir_kb):
    f = read_bundle(_bundle(_condition(text)), "b.json", as_of=AS_OF, kb=fhir_kb)
    assert f.history.connective_tissue_disease is None
    assert text in f.history.other_conditions


def test_refuted_free_text_connective_tissue_disease_is_denied(fhir_kb):
    f = read_bundle(_bundle(_condition("systemic sclerosis (limited)", "refuted")), "b.json", as_of=AS_OF, kb=fhir_kb)
    assert f.history.connective_tissue_disease is None
    assert "systemic sclerosis (limited)" in f.denied
