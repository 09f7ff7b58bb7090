"""Small HL7-style FHIR R4 example resources for the reader tests (fresh dicts on every call).

Their shapes follow the FHIR R4 specification's own examples, cut down and put in a paediatric
calcinosis setting; each function names the example it follows:
https://hl7.org/fhir/R4/<name>.json.html
"""

from __future__ import annotations

import base64

PID = "example"
SUBJECT = {"reference": f"Patient/{PID}"}
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
V3_INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def patient(birth="2025-11-24", gender="female", pid=PID):
    """After patient-example (id "example"), with a child's birth date."""
    return {"resourceType": "Patient", "id": pid, "active": True,
            "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
            "gender": gender, "birthDate": birth}


def calcium(value=2.9, interp="H", oid="obs-ca", when="2026-11-24", **extra):
    """After observation-example-f001-glucose: LOINC code, UCUM valueQuantity, interpretation, range."""
    obs = {"resourceType": "Observation", "id": oid, "status": "final",
           "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                     "code": "laboratory"}]}],
           "code": {"coding": [{"system": LOINC, "code": "2000-8",
                                "display": "Calcium [Moles/volume] in Serum or Plasma"}]},
           "subject": dict(SUBJECT), "effectiveDateTime": when,
           "valueQuantity": {"value": value, "unit": "mmol/l", "system": UCUM, "code": "mmol/L"},
           "referenceRange": [{"low": {"value": 2.2, "unit": "mmol/l", "system": UCUM, "code": "mmol/L"},
                               "high": {"value": 2.7, "unit": "mmol/l", "system": UCUM, "code": "mmol/L"}}]}
    if interp:
        obs["interpretation"] = [{"coding": [{"system": V3_INTERP, "code": interp}]}]
    obs.update(extra)
    return obs


def lesion_condition(cid="cond-lesion"):
    """After condition-example (f201 style): SNOMED code, bodySite, onset, notes as our EHR export writes them."""
    return {"resourceType": "Condition", "id": cid,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VER, "code": "confirmed"}]},
            "code": {"coding": [{"system": SCT, "code": "95325000", "display": "Subcutaneous nodule"}],
                     "text": "hard painless nodules"},
            "bodySite": [{"coding": [{"system": SCT, "code": "182335008", "display": "Back"}], "text": "back"},
                         {"text": "left thigh"}],
            "subject": dict(SUBJECT),
            "onsetAge": {"value": 5, "unit": "mo", "system": UCUM, "code": "mo"},
            "note": [{"text": "Number of lesions: 3"}, {"text": "Largest lesion: 1.5 cm"},
                     {"text": "Painful: no"}, {"text": "Ulcerated: yes"}]}


def condition(text=None, *, cid="cond-x", ver="confirmed", system=None, code=None, display=None):
    """After condition-example2: a coded or text-only diagnosis with a verification status."""
    cc = {}
    if code:
        cc["coding"] = [{"system": system, "code": code, **({"display": display} if display else {})}]
    if text:
        cc["text"] = text
    res = {"resourceType": "Condition", "id": cid, "code": cc, "subject": dict(SUBJECT)}
    if ver:
        res["verificationStatus"] = {"coding": [{"system": VER, "code": ver}]}
    return res


def family_history(*, condition_text=None, note=None, fid="fmh-1", status="completed"):
    """After familymemberhistory-example: relationship, a condition (or only a note)."""
    res = {"resourceType": "FamilyMemberHistory", "id": fid, "status": status, "patient": dict(SUBJECT),
           "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                        "code": "SIB", "display": "sibling"}]}}
    if condition_text:
        res["condition"] = [{"code": {"text": condition_text}}]
    if note:
        res["note"] = [{"text": note}]
    return res


def calcium_gluconate_administration(mid="medadmin-1"):
    """After medicationadministration0301: a contained Medication, IV route (SNOMED 47625008)."""
    return {"resourceType": "MedicationAdministration", "id": mid, "status": "completed",
            "contained": [{"resourceType": "Medication", "id": "med0301",
                           "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "A12AA03",
                                                "display": "calcium gluconate"}]}}],
            "medicationReference": {"reference": "#med0301"},
            "subject": dict(SUBJECT),
            "effectivePeriod": {"start": "2026-11-02T14:30:00+01:00", "end": "2026-11-02T15:00:00+01:00"},
            "dosage": {"route": {"coding": [{"system": SCT, "code": "47625008",
                                             "display": "Intravenous route (qualifier value)"}]},
                       "dose": {"value": 2, "unit": "mL", "system": UCUM, "code": "mL"}}}


def procedure(text, *, code=None, pid="proc-1", status="completed"):
    """After procedure-example: status, code, subject, performedDateTime."""
    cc = {"text": text}
    if code:
        cc["coding"] = [{"system": SCT, "code": code}]
    return {"resourceType": "Procedure", "id": pid, "status": status, "code": cc, "subject": dict(SUBJECT),
            "performedDateTime": "2026-10-01"}


def pathology_report(text="excision: dermal calcium deposits, von Kossa positive", rid="dr-path"):
    """After diagnosticreport-example-papsmear: category v2-0074, text in presentedForm (base64)."""
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "SP"}]}],
            "code": {"text": "Surgical pathology report"}, "subject": dict(SUBJECT),
            "issued": "2026-11-20T10:00:00Z",
            "presentedForm": [{"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}]}


def imaging_report(conclusion="radiograph: soft tissue calcification of the thigh", rid="dr-img"):
    """After diagnosticreport-example-ultrasound: LOINC imaging code, conclusion text."""
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}]},
            "subject": dict(SUBJECT), "effectiveDateTime": "2026-11-21", "conclusion": conclusion}


def bundle(*resources, bid="b1", btype="collection", base="https://ehr.example.org/fhir"):
    return {"resourceType": "Bundle", "id": bid, "type": btype,
            "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}
