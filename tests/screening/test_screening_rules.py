"""The screening rules on tiny hand-made resources (no engine)."""

import datetime as dt
import re

import pytest

from calcinosis.kb import load_kb
from calcinosis.screening import rules
from calcinosis.screening.config import load_config

AS_OF = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def cfg():
    return load_config(load_kb())


def cond(code, system="http://hl7.org/fhir/sid/icd-10-cm", status="confirmed", text=None):
    r = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
         "verificationStatus": {"coding": [{"code": status}]}, "code": {"coding": [{"system": system, "code": code}]}}
    if text:
        r["code"]["text"] = text
    return r


def test_l94_2_is_a_calcification_signal(cfg):
    assert rules.resource_signals(cond("L94.2"), cfg, None, AS_OF) == ["calcinosis_cutis_code"]


def test_refuted_condition_is_not_a_signal(cfg):
    assert rules.resource_signals(cond("M33.00", status="refuted"), cfg, None, AS_OF) == []


def test_unrelated_code_is_not_a_signal(cfg):
    assert rules.resource_signals(cond("J06.9", text="Acute upper respiratory infection"), cfg, None, AS_OF) == []


def test_calcium_infusion_counts_only_in_the_first_year(cfg):
    ma = {"resourceType": "MedicationAdministration", "subject": {"reference": "Patient/p1"},
          "medicationCodeableConcept": {"text": "IV calcium gluconate"}, "effectiveDateTime": "2026-11-20"}
    assert rules.resource_signals(ma, cfg, dt.date(2026, 11, 1), AS_OF) == ["neonatal_calcium_infusion"]
    assert rules.resource_signals(ma, cfg, dt.date(2015, 1, 1), AS_OF) == []


def test_prefilter_is_a_superset_of_every_coded_signal(cfg):
    pat = re.compile(cfg.prefilter.replace("(?i)", ""), re.IGNORECASE)
    for sig in cfg.signals:
        for system, code in sig.codes:
            line = f'{{"resourceType":"Condition","code":{{"coding":[{{"system":"{system}","code":"{code}"}}]}}}}'
            assert pat.search(line), (sig.id, code)


def obs(oid, loinc, date, value):
    return {"resourceType": "Observation", "id": oid, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]}, "effectiveDateTime": date,
            "valueQuantity": {"value": value}}


def test_latest_lab_per_code_within_the_window_and_nothing_after_as_of(cfg):
    res = [{"resourceType": "Patient", "id": "p1"},
           obs("o1", "17861-6", "2026-01-01", 9.0), obs("o2", "17861-6", "2026-11-01", 11.5),  # o2 is latest
           obs("o3", "2777-1", "2024-01-01", 5.0),  # outside the 365-day window
           obs("o4", "2731-8", "2027-01-01", 30),  # after the as-of date
           {"resourceType": "Encounter", "id": "e1", "period": {"start": "2026-10-01"}},
           {"resourceType": "Immunization", "id": "i1"}]
    keep, enc = rules.select_resources(res, cfg, AS_OF)
    assert [r["id"] for r in keep] == ["p1", "o2", "e1", "i1"]
    assert enc == [dt.date(2026, 10, 1)]


def test_age_bands(cfg):
    assert cfg.age_band(3).startswith("neonate")
    assert cfg.age_band(200).startswith("infant")
    assert cfg.age_band(None) == "unknown"
