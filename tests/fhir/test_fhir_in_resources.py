"""Each FHIR resource kind -> Findings, on small HL7-style examples (see fhir_examples.py)."""

from __future__ import annotations

from datetime import date

import fhir_examples as ex
import pytest

from calcinosis.core.model import Coding
from calcinosis.io.fhir_in import read_bundle, read_resources

AS_OF = "2026-11-24"


def read(*resources, as_of=AS_OF, kb, **kw):
    return read_resources([ex.patient(), *resources], "test.json", as_of=as_of, kb=kb, **kw)


# ---------------------------------------------------------------- Patient and the as-of date

def test_patient_age_and_sex(fhir_kb):
    f = read(kb=fhir_kb)
    assert f.age_days == 365.25  # 2025-11-24 -> 2026-11-24: 12 calendar months x 30.4375 days
    assert f.sex == "female"
    assert f.extra["patient_ref"] == "Patient/example"
    assert f.source_format == "fhir-r4"


def test_partial_birth_date_uses_mid_point_and_says_so(fhir_kb):
    f = read_resources([ex.patient(birth="2026-05")], "p.json", as_of=AS_OF, kb=fhir_kb)
    # May 2026 has 31 days: mid-point 2026-05-16 -> 192 days to 2026-11-24
    assert f.age_days == pytest.approx(192.0, abs=2.5)  # calendar months x 30.4375 (190.7)
    assert any("partial" in n and "2026-05-16" in n for n in f.notes)
    f = read_resources([ex.patient(birth="2020")], "p.json", as_of=AS_OF, kb=fhir_kb)
    assert f.age_days == pytest.approx((date(2026, 11, 24) - date(2020, 7, 2)).days, abs=2.5)  # mid-year 2020-07-02


def test_unknown_gender_stays_unknown(fhir_kb):
    f = read_resources([ex.patient(gender="unknown")], "p.json", as_of=AS_OF, kb=fhir_kb)
    assert f.sex is None
    assert any("gender unknown" in n for n in f.notes)


def test_as_of_defaults_to_the_latest_resource_date(fhir_kb):
    f = read_resources([ex.patient(), ex.calcium(when="2026-03-01"), ex.imaging_report()], "p.json",
                       kb=fhir_kb)
    assert f.extra["as_of"] == "2026-11-21"  # the imaging report's date
    assert f.age_days == pytest.approx(362.0, abs=2.5)  # calendar months x 30.4375 (362.3)
    assert any("most recent date" in n for n in f.notes)


def test_resources_after_the_as_of_date_are_ignored(fhir_kb):
    f = read(ex.calcium(when="2026-12-01"), kb=fhir_kb)
    assert f.labs == ()
    assert any("after the as-of date" in n for n in f.notes)


# ---------------------------------------------------------------- Observation

def test_observation_quantity_interpretation_and_range(fhir_kb):
    f = read(ex.calcium(), kb=fhir_kb)
    (lab,) = f.labs
    assert (lab.analyte, lab.loinc, lab.value, lab.unit) == ("Calcium [Moles/volume] in Serum or Plasma",
                                                              "2000-8", 2.9, "mmol/L")
    assert lab.reported_as == "high"
    assert (lab.ref_low, lab.ref_high, lab.reference_range) == (2.2, 2.7, "2.2-2.7 mmol/L")
    assert lab.where == "test.json: Observation/obs-ca"


@pytest.mark.parametrize("code,expected", [("N", "normal"), ("HH", "high"), ("LL", "low"), ("A", "abnormal"),
                                           ("POS", "positive"), ("NEG", "negative")])
def test_interpretation_codes(fhir_kb, code, expected):
    assert read(ex.calcium(interp=code), kb=fhir_kb).labs[0].reported_as == expected


def test_data_absent_reason_means_no_value(fhir_kb):
    obs = ex.calcium(interp="N")
    del obs["valueQuantity"]
    obs["dataAbsentReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                           "code": "unknown"}]}
    (lab,) = read(obs, kb=fhir_kb).labs
    assert lab.value is None and lab.reported_as == "normal"


def test_value_without_interpretation_is_reported_as_value(fhir_kb):
    (lab,) = read(ex.calcium(interp=None), kb=fhir_kb).labs
    assert lab.reported_as == "value" and lab.value == 2.9


def test_string_codeable_concept_and_comparator_values(fhir_kb):
    s = ex.calcium(oid="o1", interp=None)
    del s["valueQuantity"]
    s["valueString"] = "consistent with type IIa hyperlipoproteinaemia"
    c = ex.calcium(oid="o2", interp=None)
    del c["valueQuantity"]
    c["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": "10828004",
                                             "display": "Positive"}]}
    q = ex.calcium(oid="o3", interp="L")
    q["valueQuantity"]["comparator"] = "<"
    labs = read(s, c, q, kb=fhir_kb).labs
    assert [lab.value for lab in labs] == ["consistent with type IIa hyperlipoproteinaemia", "Positive", "<2.9"]


def test_lesion_observation_goes_to_the_lesion(fhir_kb):
    obs = {"resourceType": "Observation", "id": "exam-1", "status": "final",
           "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                     "code": "exam"}]}],
           "code": {"text": "Largest lesion"}, "subject": ex.SUBJECT,
           "valueQuantity": {"value": 2, "unit": "cm", "system": ex.UCUM, "code": "cm"}}
    f = read(obs, kb=fhir_kb)
    assert f.lesion.max_size_mm == 20.0 and f.labs == ()


def test_non_laboratory_and_entered_in_error_observations_are_ignored_with_a_note(fhir_kb):
    vital = ex.calcium(oid="bp")
    vital["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}]
    wrong = ex.calcium(oid="err", status="entered-in-error")
    f = read(vital, wrong, kb=fhir_kb)
    assert f.labs == ()
    assert "Observation/bp: category vital-signs is not laboratory; ignored" in f.notes
    assert "Observation/err: status entered-in-error; ignored" in f.notes


# ---------------------------------------------------------------- Condition

def test_lesion_condition(fhir_kb):
    f = read(ex.lesion_condition(), kb=fhir_kb)
    le = f.lesion
    assert le.sites == ("back", "left thigh")
    assert (le.count, le.count_text, le.max_size_mm) == (3, None, 15.0)
    assert (le.painful, le.ulcerated, le.inflammation) == (False, True, None)
    assert le.description == "hard painless nodules"
    assert f.onset_age_days == 5 * 30.4375
    assert Coding("snomed", "95325000", "Subcutaneous nodule") in f.codes_present
    assert f.lesion_described


def test_coded_conditions_set_history_flags(fhir_kb):
    f = read(ex.condition("CKD stage 5", cid="c1", system=ex.ICD10CM, code="N18.5"),
             ex.condition("juvenile dermatomyositis", cid="c2", system=ex.ICD10CM, code="M33.0"),
             ex.condition("born at 26 weeks' gestation", cid="c3"), kb=fhir_kb)
    h = f.history
    assert h.renal_failure is True and h.dialysis is None and h.trauma is None
    assert h.connective_tissue_disease == "juvenile dermatomyositis"
    assert h.other_conditions == ("born at 26 weeks' gestation",)
    assert Coding("icd10cm", "N18.5") in f.codes_present


def test_refuted_conditions_are_absent(fhir_kb):
    f = read(ex.condition("Injury of skin", cid="c1", ver="refuted"),
             ex.condition("Chronic kidney disease", cid="c2", ver="refuted", system=ex.ICD10CM, code="N18.9"),
             kb=fhir_kb)
    assert f.history.trauma is False
    assert f.history.renal_failure is False
    assert f.denied == ("Injury of skin", "Chronic kidney disease")
    assert f.codes_absent == (Coding("icd10cm", "N18.9"),)
    assert f.codes_present == () and f.history.other_conditions == ()


def test_confirmed_beats_refuted(fhir_kb):
    f = read(ex.condition("Injury of skin", cid="c1", ver="refuted"),
             ex.condition("Injury of skin", cid="c2"), kb=fhir_kb)
    assert f.history.trauma is True


def test_entered_in_error_and_tentative_conditions(fhir_kb):
    f = read(ex.condition("Chronic kidney disease", cid="c1", ver="entered-in-error", system=ex.ICD10CM,
                          code="N18.9"),
             ex.condition("sarcoidosis", cid="c2", ver="differential"), kb=fhir_kb)
    assert f.history.renal_failure is None
    assert "Condition/c1: verificationStatus entered-in-error; ignored" in f.notes
    assert f.history.other_conditions == ("sarcoidosis (differential)",)


def test_hpo_codes(fhir_kb):
    f = read(ex.condition(None, cid="c1", system="http://purl.obolibrary.org/obo/hp.owl", code="HP:0025520"),
             ex.condition(None, cid="c2", ver="refuted", system="http://purl.obolibrary.org/obo/hp.owl",
                          code="HP:0002905"), kb=fhir_kb)
    assert f.hpo_present == ("HP:0025520",) and f.hpo_excluded == ("HP:0002905",)


# ---------------------------------------------------------------- FamilyMemberHistory

def test_family_history(fhir_kb):
    assert read(ex.family_history(condition_text="similar hard skin nodules"), kb=fhir_kb).history.family_history
    neg = read(ex.family_history(note="No relatives with similar lesions (family history negative)"), kb=fhir_kb)
    assert neg.history.family_history is False
    other = read(ex.family_history(condition_text="Myocardial infarction"), kb=fhir_kb)
    assert other.history.family_history is None
    assert other.extra["family_conditions"] == ["sibling: Myocardial infarction"]
    assert any("not similar lesions" in n for n in other.notes)


# ---------------------------------------------------------------- Medications and procedures

def test_medication_administration_of_calcium(fhir_kb):
    h = read(ex.calcium_gluconate_administration(), kb=fhir_kb).history
    assert h.medications == ("calcium gluconate",)
    assert h.calcium_or_phosphate_agent is True
    assert h.prior_injection_or_infusion == "calcium gluconate (Intravenous route (qualifier value))"


def test_medication_request_by_reference_and_not_taken_statement(fhir_kb):
    med = {"resourceType": "Medication", "id": "m1", "code": {"text": "sodium phosphate oral solution"}}
    req = {"resourceType": "MedicationRequest", "id": "r1", "status": "active", "intent": "order",
           "medicationReference": {"reference": "Medication/m1"}, "subject": ex.SUBJECT}
    stmt = {"resourceType": "MedicationStatement", "id": "s1", "status": "not-taken",
            "medicationCodeableConcept": {"text": "calcium carbonate"}, "subject": ex.SUBJECT}
    f = read(med, req, stmt, kb=fhir_kb)
    assert f.history.medications == ("sodium phosphate oral solution",)
    assert f.history.calcium_or_phosphate_agent is True
    assert f.history.prior_injection_or_infusion is None  # oral
    assert "MedicationStatement/s1: status not-taken; ignored" in f.notes


def test_procedures(fhir_kb):
    f = read(ex.procedure("Haemodialysis session", code="302497006", pid="p1"),
             ex.procedure("repeated heel-prick testing in the neonatal unit", pid="p2"),
             ex.procedure("Appendectomy", pid="p3", status="not-done"), kb=fhir_kb)
    h = f.history
    assert h.dialysis is True
    assert h.procedures == ("Haemodialysis session", "repeated heel-prick testing in the neonatal unit")
    assert h.prior_injection_or_infusion == "repeated heel-prick testing in the neonatal unit"


# ---------------------------------------------------------------- DiagnosticReport

def test_pathology_and_imaging_reports(fhir_kb):
    f = read(ex.pathology_report(), ex.imaging_report(), kb=fhir_kb)
    assert f.histology == "Surgical pathology report: excision: dermal calcium deposits, von Kossa positive"
    assert f.imaging == "radiograph: soft tissue calcification of the thigh"


def test_unclassifiable_report_is_ignored_with_a_note(fhir_kb):
    r = ex.imaging_report(rid="dr-x")
    r["code"] = {"text": "Lipid panel"}
    f = read(r, kb=fhir_kb)
    assert f.imaging is None and f.histology is None
    assert any(n.startswith("DiagnosticReport/dr-x: neither pathology nor imaging") for n in f.notes)


# ---------------------------------------------------------------- the record as a whole

def test_other_patients_resources_and_unused_types_are_ignored_with_a_note(fhir_kb):
    other = ex.calcium(oid="theirs", subject={"reference": "Patient/someone-else"})
    enc = {"resourceType": "Encounter", "id": "enc-1", "status": "finished",
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}
    f = read(other, ex.calcium(oid="ours"), enc, kb=fhir_kb)
    assert [lab.where for lab in f.labs] == ["test.json: Observation/ours"]
    assert "Observation/theirs: its subject is another patient, not this record's patient; ignored" in f.notes
    assert "Encounter/enc-1: resource type not used" in f.notes
    assert not any("someone-else" in n for n in f.notes)  # no patient identifiers in notes


def test_a_prefetch_of_bundles_and_resources(fhir_kb):
    search = ex.bundle(ex.calcium(), ex.imaging_report(), btype="searchset")
    f = read_resources([ex.patient(), search, ex.lesion_condition()], "prefetch", as_of=AS_OF, kb=fhir_kb)
    assert len(f.labs) == 1 and f.imaging and f.lesion.sites


def test_bundle_with_urn_references_and_patient_id(fhir_kb):
    b = {"resourceType": "Bundle", "id": "tx", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "resource": ex.patient(pid="p-new")},
        {"fullUrl": "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059",
         "resource": ex.calcium(subject={"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"})}]}
    f = read_bundle(b, "tx.json", as_of=AS_OF, kb=fhir_kb)
    assert len(f.labs) == 1 and f.age_days == 365.25 and f.id == "tx"


def test_several_patients_with_a_patient_id(fhir_kb):
    f = read_resources([ex.patient(pid="a"), ex.patient(pid="b", gender="male"),
                        ex.calcium(subject={"reference": "Patient/b"})], "x", as_of=AS_OF, kb=fhir_kb,
                       patient_id="b")
    assert f.sex == "male" and len(f.labs) == 1
    assert "Patient/a: another patient; ignored" in f.notes


def test_without_validation_gives_the_same_findings(fhir_kb):
    rs = [ex.patient(), ex.calcium(), ex.lesion_condition(), ex.calcium_gluconate_administration(),
          ex.pathology_report()]
    a = read_resources(rs, "x", as_of=AS_OF, kb=fhir_kb)
    b = read_resources(rs, "x", as_of=AS_OF, kb=fhir_kb, validate=False)
    assert a == b
