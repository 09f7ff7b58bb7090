"""TEST HELPER (not product code): a ``calcinosis-case/1`` case file -> a FHIR R4 Bundle.

Follows, as far as they could be reverse-engineered, the conventions of the shared ``dev-fhir`` Bundles
(``/work/shared/cases/dev-fhir``, made from ``dev/`` as of 2026-11-24), so that a hand-written case can be
read both ways and the two assessments compared (``test_fhir_vignette_equivalence.py``):

- Patient: ``id`` = case id; ``gender`` only when the sex is known; ``birthDate`` = as-of date minus the age
  (whole months: calendar months, 7 months before 2026-11-24 is 2026-04-24; fractions of a month: days at
  30.4375 per month, a 0.39-month-old is born 12 days earlier). No ``birthDate`` when the age is unknown.
- The lesion: one Condition (confirmed, active, encounter-diagnosis) coded SNOMED 95325000 "Subcutaneous
  nodule" when the description speaks of nodules under the skin, else 95324001 "Skin lesion"; ``code.text`` =
  the description (or "Skin lesion"); ``bodySite[].text`` = each site (repeats kept); ``onsetAge`` in UCUM
  ``mo``; notes "Number of lesions: N|multiple|as reported", "Largest lesion: N mm", "Painful: yes/no",
  "Ulcerated: yes/no", "Signs of inflammation: yes/no", "Age at presentation as reported: ...".
- trauma true/false: Condition "Injury of skin", confirmed / refuted (with a note).
- renal failure true: Condition ICD-10-CM N18.9 "Chronic kidney disease" (N17.9 "Acute kidney failure" when an
  other condition says acute renal/kidney failure or injury); false: the same Condition refuted.
- dialysis true: Procedure SNOMED 108241001 "Dialysis"; false: refuted Condition "Dialysis" (not seen in dev;
  a guess).
- connective-tissue disease: Condition (problem-list item) with ``code.text`` as worded and, where the words
  name one, an ICD-10-CM coding (M33.0 juvenile dermatomyositis, M33.1x other dermatomyositis, M32.x lupus,
  M34.x systemic sclerosis, M35.1 overlap). ``ctd_codes=False`` leaves the text alone (an EHR entry
  without codes), to probe the text reading.
- family history true: FamilyMemberHistory with the condition "Similar skin lesions"; false: one with the note
  "No relatives with similar lesions (family history negative)".
- prior injection/infusion: MedicationAdministration (``medicationCodeableConcept.text`` = the words; note
  "Calcium- or phosphate-containing agent: yes" when the agent flag is true), or a Procedure when the words
  are a skin puncture (heel prick, venepuncture, ...). Calcium/phosphate agent without an injection: a
  MedicationStatement "Calcium- or phosphate-containing agent" with the yes/no note (a guess).
- other conditions: one text-only Condition each (confirmed problem-list items); negative statements ("no
  ...", "not ...") without verificationStatus and with the note "Negative statement in the history, recorded
  as worded". ``history.medications``: MedicationStatement each (a guess).
- labs: laboratory Observations, ``code.text`` = the analyte as written, a LOINC coding when the knowledge
  base names the analyte exactly (mass or molar code by unit, as dev does for calcium, phosphate and PTH);
  a number -> ``valueQuantity`` (UCUM ``system``/``code`` when the printed unit has a UCUM form, else only
  ``unit``), a text value -> ``valueString``; no number -> ``dataAbsentReason`` unknown + interpretation;
  normal/high/low/positive/negative -> ``interpretation``; ``reference_range`` "a-b unit" -> low/high/text;
  ``note`` -> note; ``loinc`` as given wins.
- histology / imaging: DiagnosticReport, category LOINC LP7839-6 Pathology / LP29684-5 Radiology,
  ``code.text`` = the words before the only colon, else "Histopathology / cytology report" / "Imaging report";
  ``conclusion`` = the text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

AS_OF = date(2026, 11, 24)
EHR = "https://ehr.example.org/fhir"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3I = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

# printed unit -> UCUM code (only units whose UCUM form is certain)
UCUM_CODES = {
    "mmol/l": "mmol/L", "mg/dl": "mg/dL", "mg/l": "mg/L", "g/l": "g/L", "g/dl": "g/dL", "pg/ml": "pg/mL",
    "ng/ml": "ng/mL", "ng/l": "ng/L", "pmol/l": "pmol/L", "nmol/l": "nmol/L", "µmol/l": "umol/L",
    "umol/l": "umol/L", "μmol/l": "umol/L", "u/l": "U/L", "iu/l": "[IU]/L", "miu/l": "m[IU]/L", "mu/l": "mU/L",
    "%": "%", "mm/h": "mm/h", "mm/hr": "mm/h", "x10^9/l": "10*9/L", "meq/l": "meq/L", "mg2/dl2": "mg2/dL2",
    "ml/min/1.73m2": "mL/min/{1.73_m2}", "ru/ml": "{RU}/mL", "mg/24h": "mg/(24.h)", "mmol/24h": "mmol/(24.h)",
    "µg/l": "ug/L", "ug/l": "ug/L", "mu/ml": "mU/mL", "miu/ml": "m[IU]/mL", "iu/ml": "[IU]/mL", "u/ml": "U/mL",
}
MOLAR_PAIRS = {  # analyte id -> (mass code, molar code) as the dev Bundles use them
    "calcium_total": ("17861-6", "2000-8"), "phosphate": ("2777-1", "14879-1"), "pth": ("2731-8", "14866-8"),
}
MOLAR_UNITS = re.compile(r"mol/", re.I)
NEGATIVE = re.compile(r"^(no|not|non|never|without|denie[sd]|negative)\b", re.I)
PUNCTURE = ("heel prick", "heel-prick", "heel stick", "heelstick", "heel-stick", "venepuncture", "venipuncture",
            "skin puncture", "cannulation", "blood sampling")
INTERP = {"normal": ("N", "Normal"), "high": ("H", "High"), "low": ("L", "Low"),
          "positive": ("POS", "Positive"), "negative": ("NEG", "Negative"), "abnormal": ("A", "Abnormal")}


def _birth_date(age_months: float) -> date:
    if float(age_months).is_integer():
        m = int(age_months)
        y, mo = divmod(AS_OF.year * 12 + AS_OF.month - 1 - m, 12)
        d = AS_OF.day
        while True:
            try:
                return date(y, mo + 1, d)
            except ValueError:
                d -= 1
    return AS_OF - timedelta(days=round(age_months * 30.4375))


def _ctd_coding(text: str) -> dict | None:
    t = text.lower()
    if "dermatomyositis" in t or re.search(r"\bjdm\b", t):
        if "juvenile" in t or re.search(r"\bjdm\b", t):
            return {"system": ICD, "code": "M33.0", "display": "Juvenile dermatomyositis"}
        return {"system": ICD, "code": "M33.10", "display": "Other dermatomyositis, organ involvement unspecified"}
    if "lupus" in t or re.search(r"\bsle\b", t):
        return {"system": ICD, "code": "M32.9", "display": "Systemic lupus erythematosus, unspecified"}
    if "crest" in t:
        return {"system": ICD, "code": "M34.1", "display": "CR(E)ST syndrome"}
    if "sclerosis" in t or "scleroderma" in t:
        return {"system": ICD, "code": "M34.9", "display": "Systemic sclerosis, unspecified"}
    if "mixed connective" in t or "overlap" in t:
        return {"system": ICD, "code": "M35.1", "display": "Other overlap syndromes"}
    return None


def _ucum(unit: str) -> str | None:
    return UCUM_CODES.get(re.sub(r"\s+", "", unit).lower())


def _quantity(value: float, unit: str | None) -> dict:
    q: dict[str, Any] = {"value": value}
    if unit:
        q["unit"] = unit
        code = _ucum(unit)
        if code:
            q["system"] = UCUM
            q["code"] = code
    return q


_RR = re.compile(r"^\s*([0-9.]+)\s*[-–]\s*([0-9.]+)\s*(.*)$")


def _loinc_for(lab: dict, kb: Any) -> str | None:
    if isinstance(lab.get("loinc"), str):
        return lab["loinc"]
    if kb is None:
        return None
    from calcinosis.core import labs as L

    c = L.compile_labs(kb)
    if L.ambiguous_candidates(lab.get("analyte") or "", None, kb):
        return None  # "Ca++": the report does not say which calcium; the reader decides by the value, as for the case
    kind, hit = L._lookup_name(lab.get("analyte") or "", c)
    if kind != "analyte":
        return None
    aid, form = hit
    if form is None and aid in MOLAR_PAIRS:
        unit = lab.get("unit") or ""
        return MOLAR_PAIRS[aid][1 if MOLAR_UNITS.search(unit) else 0]
    spec = next((a for a in (kb.get("analytes") or {}).get("analytes") or [] if a["id"] == aid), None)
    if spec is None:
        return None
    codes = (spec.get("forms") or {}).get(form, {}).get("loinc") if form else spec.get("loinc")
    return codes[0] if codes else None


def case_to_bundle(case: dict, *, kb: Any = None, ctd_codes: bool = True) -> dict:
    """A FHIR R4 Bundle (type collection) of the case, as of 2026-11-24 (see the module docstring)."""
    cid = case["id"]
    pref = {"reference": f"Patient/{cid}"}
    entries: list[dict] = []
    n = {"cond": 0, "obs": 0, "dr": 0, "ma": 0, "ms": 0, "proc": 0, "fmh": 0}

    def add(kind: str, rtype: str, res: dict) -> dict:
        n[kind] += 1
        rid = f"{cid}-{kind}-{n[kind]}"
        res = {"resourceType": rtype, "id": rid, **res}
        entries.append({"fullUrl": f"{EHR}/{rtype}/{rid}", "resource": res})
        return res

    def condition(text: str, *, ver: str | None = "confirmed", cat: str = "problem-list-item",
                  coding: list | None = None, notes: list[str] | None = None, extra: dict | None = None) -> dict:
        res: dict[str, Any] = {}
        if ver == "confirmed":
            res["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                 "code": "active", "display": "Active"}]}
        if ver:
            res["verificationStatus"] = {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": ver,
                "display": ver.capitalize()}]}
        res["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                        "code": cat}]}]
        code: dict[str, Any] = {}
        if coding:
            code["coding"] = coding
        code["text"] = text
        res["code"] = code
        res["subject"] = pref
        res.update(extra or {})
        if notes:
            res["note"] = [{"text": t} for t in notes]
        res["recordedDate"] = AS_OF.isoformat()
        return add("cond", "Condition", res)

    patient: dict[str, Any] = {}
    if case.get("sex") in ("female", "male"):
        patient["gender"] = case["sex"]
    if case.get("age_months") is not None:
        patient["birthDate"] = _birth_date(case["age_months"]).isoformat()
    entries.append({"fullUrl": f"{EHR}/Patient/{cid}", "resource": {"resourceType": "Patient", "id": cid, **patient}})

    # the lesion
    desc = case.get("lesion_description")
    notes = []
    count = case.get("lesion_count")
    if count is not None:
        notes.append(f"Number of lesions: {count}")
    if case.get("lesion_max_size_mm") is not None:
        notes.append(f"Largest lesion: {case['lesion_max_size_mm']:g} mm")
    for key, label in (("painful", "Painful"), ("ulcerated", "Ulcerated"), ("inflammation", "Signs of inflammation")):
        if case.get(key) is not None:
            notes.append(f"{label}: {'yes' if case[key] else 'no'}")
    sites = case.get("lesion_sites") or []
    if desc or sites or notes or case.get("onset_age_months") is not None:
        if case.get("age_text"):  # a note on the lesion only: the age alone describes no lesion
            notes.append(f"Age at presentation as reported: {case['age_text']}")
        d = (desc or "").lower()
        nodular = "nodul" in d and ("subcutaneous" in d or "under the skin" in d)
        coding = [{"system": SCT, "code": "95325000", "display": "Subcutaneous nodule"} if nodular
                  else {"system": SCT, "code": "95324001", "display": "Skin lesion"}]
        extra: dict[str, Any] = {}
        if sites:
            extra["bodySite"] = [{"text": s} for s in sites]
        if case.get("onset_age_months") is not None:
            extra["onsetAge"] = {"value": case["onset_age_months"], "unit": "mo", "system": UCUM, "code": "mo"}
        condition(desc or "Skin lesion", cat="encounter-diagnosis", coding=coding, notes=notes, extra=extra)

    h = case.get("history") or {}
    others = list(h.get("other_conditions") or [])
    if h.get("trauma") is not None:
        condition("Injury of skin", ver="confirmed" if h["trauma"] else "refuted", cat="encounter-diagnosis",
                  notes=["Injury or tissue damage at the lesion site" if h["trauma"]
                         else "No injury or tissue damage at the lesion site"])
    if h.get("renal_failure") is not None:
        acute = any(re.search(r"acute (renal|kidney) (failure|injury)|\baki\b", o.lower()) for o in others)
        coding = ({"system": ICD, "code": "N17.9", "display": "Acute kidney failure, unspecified"} if acute
                  else {"system": ICD, "code": "N18.9", "display": "Chronic kidney disease, unspecified"})
        condition("Acute kidney failure" if acute else "Chronic kidney disease",
                  ver="confirmed" if h["renal_failure"] else "refuted", coding=[coding])
    if h.get("dialysis") is True:
        add("proc", "Procedure", {"status": "completed", "code": {
            "coding": [{"system": SCT, "code": "108241001", "display": "Dialysis procedure"}], "text": "Dialysis"},
            "subject": pref, "performedDateTime": AS_OF.isoformat()})
    elif h.get("dialysis") is False:
        condition("Dialysis", ver="refuted")
    if h.get("connective_tissue_disease"):
        t = h["connective_tissue_disease"]
        cd = _ctd_coding(t) if ctd_codes else None
        condition(t, coding=[cd] if cd else None)
    if h.get("family_history") is True:
        add("fmh", "FamilyMemberHistory", {"status": "completed", "patient": pref, "date": AS_OF.isoformat(),
            "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                         "code": "FAMMEMB", "display": "family member"}], "text": "family member"},
            "condition": [{"code": {"text": "Similar skin lesions"},
                           "note": [{"text": "Similar lesions reported in one or more relatives"}]}]})
    elif h.get("family_history") is False:
        add("fmh", "FamilyMemberHistory", {"status": "completed", "patient": pref, "date": AS_OF.isoformat(),
            "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                         "code": "FAMMEMB", "display": "family member"}], "text": "family member"},
            "note": [{"text": "No relatives with similar lesions (family history negative)"}]})
    agent = h.get("calcium_or_phosphate_agent")
    inj = h.get("prior_injection_or_infusion")
    agent_note = None if agent is None else f"Calcium- or phosphate-containing agent: {'yes' if agent else 'no'}"
    if inj:
        if any(w in inj.lower() for w in PUNCTURE):
            add("proc", "Procedure", {"status": "completed", "code": {"text": inj}, "subject": pref,
                "note": [{"text": "Reported in the history as prior injection or skin puncture; date not reported"}]})
            if agent_note:
                add("ms", "MedicationStatement", {"status": "completed", "medicationCodeableConcept": {
                    "text": "Calcium- or phosphate-containing agent"}, "subject": pref,
                    "note": [{"text": agent_note}]})
        else:
            ma_notes = [{"text": "Prior injection or infusion reported in the history; date not reported "
                                 "(recorded on the as-of date)"}]
            if agent_note:
                ma_notes.append({"text": agent_note})
            add("ma", "MedicationAdministration", {"status": "completed", "medicationCodeableConcept": {"text": inj},
                "subject": pref, "effectiveDateTime": AS_OF.isoformat(), "note": ma_notes})
    elif agent_note:
        add("ms", "MedicationStatement", {"status": "completed", "medicationCodeableConcept": {
            "text": "Calcium- or phosphate-containing agent"}, "subject": pref, "note": [{"text": agent_note}]})
    for med in h.get("medications") or []:
        add("ms", "MedicationStatement", {"status": "active", "medicationCodeableConcept": {"text": med},
                                          "subject": pref})
    for o in others:
        if NEGATIVE.search(o.strip()):
            condition(o, ver=None, cat="encounter-diagnosis",
                      notes=["Negative statement in the history, recorded as worded"])
        else:
            condition(o)

    for lab in case.get("labs") or []:
        res: dict[str, Any] = {"status": "final", "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory",
            "display": "Laboratory"}]}]}
        code: dict[str, Any] = {}
        lc = _loinc_for(lab, kb)
        if lc:
            code["coding"] = [{"system": LOINC, "code": lc}]
        code["text"] = lab["analyte"]
        res["code"] = code
        res["subject"] = pref
        res["effectiveDateTime"] = AS_OF.isoformat()
        v, rep = lab.get("value"), lab.get("reported_as")
        if isinstance(v, bool):
            v = str(v).lower()
        if isinstance(v, str) and re.fullmatch(r"\s*-?\d+(?:[.,]\d+)?\s*", v):
            v = float(v.replace(",", "."))  # a number printed with a decimal comma is a number (as read_case reads it)
        if isinstance(v, (int, float)):
            res["valueQuantity"] = _quantity(v, lab.get("unit"))
        elif isinstance(v, str) and v.strip():
            res["valueString"] = v
        else:
            res["dataAbsentReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                                   "code": "unknown", "display": "Unknown"}],
                                       "text": f"value not reported; reported as {rep}"}
        if rep in INTERP:
            c, disp = INTERP[rep]
            res["interpretation"] = [{"coding": [{"system": V3I, "code": c, "display": disp}], "text": rep}]
        rr = lab.get("reference_range")
        if isinstance(rr, str) and rr.strip():
            m = _RR.match(rr)
            if m:
                u = m.group(3).strip() or lab.get("unit")
                res["referenceRange"] = [{"low": _quantity(float(m.group(1)), u),
                                          "high": _quantity(float(m.group(2)), u), "text": rr}]
            else:
                res["referenceRange"] = [{"text": rr}]
        if lab.get("note"):
            res["note"] = [{"text": lab["note"]}]
        add("obs", "Observation", res)

    for field, cat, default in (("histology", {"system": LOINC, "code": "LP7839-6", "display": "Pathology"},
                                 "Histopathology / cytology report"),
                                ("imaging", {"system": LOINC, "code": "LP29684-5", "display": "Radiology"},
                                 "Imaging report")):
        text = case.get(field)
        if not text:
            continue
        name = text.split(":", 1)[0].strip() if text.count(":") == 1 else default
        add("dr", "DiagnosticReport", {"status": "final", "category": [{"coding": [cat], "text": cat["display"]}],
                                       "code": {"text": name}, "subject": pref,
                                       "effectiveDateTime": AS_OF.isoformat(), "conclusion": text})
    return {"resourceType": "Bundle", "id": cid, "type": "collection", "entry": entries}
