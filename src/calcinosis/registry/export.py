"""Export: CSV (one row per measurement) and a FHIR R4 Bundle of tumour-size Observations.

The Observations follow the tumour-size pattern (LOINC 21889-1 "Size Tumor" with the component 33728-7
"Size.maximum dimension in Tumor" for the longest and 33729-5 "Size additional dimension in Tumor" for the
second dimension, UCUM ``mm``), with ``effectiveDateTime`` and ``bodySite``; validated with fhir.resources R4B.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from calcinosis.errors import require

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CSV_COLUMNS = ("patient", "visit_date", "age_months", "lesion", "site", "longest_mm", "second_mm", "count",
               "status", "trajectory")
_NS = uuid.UUID("6f1c2a52-8a57-4c0c-9d55-2f0a5e7c1a11")


def export_csv(timelines: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for tl in timelines:
        for le in tl["lesions"]:
            for m in le["measurements"]:
                w.writerow([tl["patient"]["id"], m["date"], m["age_months"], le["label"], le["site"],
                            m["longest_mm"], m["second_mm"], m["count"], m["status"], m["trajectory"]])
    return buf.getvalue()


def _qty(v: float) -> dict[str, Any]:
    return {"value": v, "unit": "mm", "system": UCUM, "code": "mm"}


def _observation(pid: str, patient_ref: str, le: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    oid = str(uuid.uuid5(_NS, f"{pid}|{le['label']}|{m['date']}"))
    components = []
    if m["status"] == "resolved":
        components.append({"code": {"coding": [{"system": LOINC, "code": "33728-7",
                                                 "display": "Size.maximum dimension in Tumor"}]},
                           "valueQuantity": _qty(0)})
    elif m["longest_mm"] is not None:
        components.append({"code": {"coding": [{"system": LOINC, "code": "33728-7",
                                                 "display": "Size.maximum dimension in Tumor"}]},
                           "valueQuantity": _qty(m["longest_mm"])})
        if m["second_mm"] is not None:
            components.append({"code": {"coding": [{"system": LOINC, "code": "33729-5",
                                                     "display": "Size additional dimension in Tumor"}]},
                               "valueQuantity": _qty(m["second_mm"])})
    note = f"lesion {le['label']}: {m['status']}; trajectory {m['trajectory']}"
    if m["count"]:
        note += f"; count {m['count']}"
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": oid, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "exam", "display": "Exam"}]}],
        "code": {"coding": [{"system": LOINC, "code": "21889-1", "display": "Size Tumor"}],
                 "text": "Calcinosis cutis lesion size"},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": m["date"],
        "bodySite": {"text": le["site"]},
        "focus": [{"display": f"lesion {le['label']}"}],
        "note": [{"text": note}],
    }
    if components:
        obs["component"] = components
    else:
        obs["dataAbsentReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                               "code": "not-performed"}]}
    return obs


def export_fhir(timelines: list[dict[str, Any]]) -> dict[str, Any]:
    """A FHIR R4 ``collection`` Bundle (Patient + Observations), validated with fhir.resources R4B."""
    entries = []
    for tl in timelines:
        pid = tl["patient"]["id"]
        patient_id = str(uuid.uuid5(_NS, pid))
        patient = {"resourceType": "Patient", "id": patient_id,
                   "identifier": [{"system": "urn:calcinosis:registry:pseudonym", "value": pid}]}
        if tl["patient"]["sex"]:
            patient["gender"] = tl["patient"]["sex"]
        entries.append({"fullUrl": f"urn:uuid:{patient_id}", "resource": patient})
        for le in tl["lesions"]:
            for m in le["measurements"]:
                obs = _observation(pid, f"urn:uuid:{patient_id}", le, m)
                entries.append({"fullUrl": f"urn:uuid:{obs['id']}", "resource": obs})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    require("fhir.resources", "fhir")
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)  # raises on an invalid resource
    return bundle
