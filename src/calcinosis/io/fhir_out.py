"""Write an Assessment as FHIR R4: a collection Bundle of ClinicalImpression, RiskAssessment and CarePlan.

Plus ``missing_workup_service_requests`` (draft ServiceRequest proposals with LOINC codes, for CDS Hooks
suggestions). Plain dicts that validate with ``fhir.resources.R4B``; ids are derived from the assessment
(uuid5), so the same assessment always gives the same Bundle.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Any

from calcinosis.core.model import Assessment, DifferentialItem, WorkupItem
from calcinosis.io.fhir_map import get_mappings

EXT_BASE = "https://calcinosis.example.org/fhir/StructureDefinition/"
CODE_SYSTEM = "https://calcinosis.example.org/fhir/CodeSystem/"
KB_EXTENSION = EXT_BASE + "knowledge-base"
RISK_SYSTEM = "http://terminology.hl7.org/CodeSystem/risk-probability"
LOINC = "http://loinc.org"
_NS = uuid.UUID("6f1c2d3e-9a4b-5c6d-8e7f-0a1b2c3d4e5f")


def _subject(patient_ref: str | None, assessment: Assessment) -> dict[str, str]:
    if patient_ref:
        return {"reference": patient_ref}
    return {"display": f"the patient of assessment {assessment.id}"}


def _urn(assessment: Assessment, kind: str) -> str:
    k = assessment.knowledge or {}
    key = f"{assessment.id}|{assessment.as_of}|{k.get('version')}|{k.get('hash')}|{kind}"
    return f"urn:uuid:{uuid.uuid5(_NS, key)}"


def _add_months(d: date, months: float) -> date:
    whole = int(months)
    y, m = divmod(d.month - 1 + whole, 12)
    year, month = d.year + y, m + 1
    out = date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
    return date.fromordinal(out.toordinal() + round((months - whole) * 30.4375))


def _as_of(assessment: Assessment) -> date | None:
    try:
        return date.fromisoformat(assessment.as_of[:10]) if assessment.as_of else None
    except ValueError:
        return None


def _knowledge_extension(assessment: Assessment) -> list[dict]:
    k = assessment.knowledge or {}
    parts = [{"url": key, "valueString": str(k[key])} for key in ("version", "hash", "hpo_release") if k.get(key)]
    return [{"url": KB_EXTENSION, "extension": parts}] if parts else []


def _protocol(assessment: Assessment) -> list[str]:
    k = assessment.knowledge or {}
    return [f"urn:calcinosis:kb:{k.get('version', '0')}:{k.get('hash', 'unknown')}"]


def _workup_code(item: WorkupItem) -> dict[str, Any]:
    cc: dict[str, Any] = {"text": item.label}
    if item.loinc:
        cc["coding"] = [{"system": LOINC, "code": c} for c in item.loinc]
    return cc


def _sources_text(ids: tuple[str, ...]) -> str:
    return f" (sources: {', '.join(ids)})" if ids else ""


def _clinical_impression(a: Assessment, subject: dict, findings: Any) -> dict[str, Any]:
    c = a.classification
    res: dict[str, Any] = {
        "resourceType": "ClinicalImpression",
        "status": "completed",
        "code": {"text": "Calcinosis cutis decision support assessment"},
        "subject": subject,
        "protocol": _protocol(a),
        "summary": c.summary,
    }
    ext = _knowledge_extension(a)
    if ext:
        res["extension"] = ext
    if a.intended_use:
        res["description"] = a.intended_use
    if a.as_of:
        res["effectiveDateTime"] = a.as_of[:10]
        res["date"] = a.as_of[:10]
    finding = [{"itemCodeableConcept": {"text": r.statement},
                "basis": "; ".join(r.facts) + f" [criterion {r.criterion}]{_sources_text(r.sources)}"}
               for r in c.reasons]
    if finding:
        res["finding"] = finding
    plan = a.management
    if plan.follow_up is not None and plan.follow_up.expected_course:
        res["prognosisCodeableConcept"] = [{"text": plan.follow_up.expected_course}]
    labs = [{"display": f"{r.label}: {'' if r.value is None else r.value} {r.unit or ''} ({r.flag})".replace("  ", " ")}
            for r in a.labs]
    if labs:
        res["investigation"] = [{"code": {"text": "Laboratory results read against intervals for age and sex"},
                                 "item": labs}]
    head = f"Type: {c.type or 'undetermined'}"
    if c.subtype_label or c.subtype:
        head += f"; subtype: {c.subtype_label or c.subtype}"
    if c.certainty:
        head += f"; certainty: {c.certainty}"
    notes = [head] + [f"{r.statement}{_sources_text(r.sources)}" for r in c.reasons]
    if a.not_measured:
        notes.append("Not measured: " + ", ".join(a.not_measured))
    notes += [f"Input note: {n}" for n in a.input_notes]
    if findings is not None:
        notes += [f"Reader note: {n}" for n in getattr(findings, "notes", ())]
    res["note"] = [{"text": t} for t in notes if t]
    return res


def _risk_code(maps, p: float) -> dict[str, Any]:
    for at_least, code, display in maps.qualitative_risk:
        if p >= at_least:
            return {"coding": [{"system": RISK_SYSTEM, "code": code, "display": display}]}
    return {"text": "not graded"}


def _normalised(scores: list[float]) -> list[float]:
    pos = [max(s, 0.0) for s in scores]
    total = sum(pos)
    return [round(s / total, 4) if total > 0 else 0.0 for s in pos]


def _item_prediction(maps, it: DifferentialItem, p: float) -> dict[str, Any]:
    why = []
    if it.features_for:
        why.append("for: " + ", ".join(it.features_for))
    if it.features_against:
        why.append("against: " + ", ".join(it.features_against))
    if it.separating_test:
        why.append("separating test: " + it.separating_test)
    if it.genes:
        why.append("genes: " + ", ".join(it.genes))
    pred: dict[str, Any] = {
        "outcome": {"coding": [{"system": CODE_SYSTEM + it.kind, "code": it.id, "display": it.name}],
                    "text": it.name},
        "probabilityDecimal": p,
        "qualitativeRisk": _risk_code(maps, p),
    }
    rationale = "; ".join(why) + _sources_text(it.sources)
    if rationale:
        pred["rationale"] = rationale
    return pred


def _risk_assessment(a: Assessment, subject: dict, ci_url: str, maps) -> dict[str, Any]:
    k = a.knowledge or {}
    preds: list[dict[str, Any]] = []
    ranked = list(a.classification.ranked)
    for rt, p in zip(ranked, _normalised([r.score for r in ranked])):
        pred = {"outcome": {"coding": [{"system": CODE_SYSTEM + "type", "code": rt.type}],
                            "text": f"{rt.type} calcinosis cutis" if rt.type != "mimic" else "not calcinosis (mimic)"},
                "probabilityDecimal": p, "qualitativeRisk": _risk_code(maps, p)}
        if rt.reasons:
            pred["rationale"] = "; ".join(r.statement for r in rt.reasons)
        preds.append(pred)
    for group in (list(a.differential), list(a.genetic)):
        preds += [_item_prediction(maps, it, p) for it, p in zip(group, _normalised([i.score for i in group]))]
    res: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": subject,
        "basis": [{"reference": ci_url}],
        "method": {"text": f"calcinosis knowledge base {k.get('version', '?')} ({k.get('hash', '?')}): "
                           "relative scores of the types and of the differential diagnoses"},
        "note": [{"text": "probabilityDecimal is the item's score divided by the sum of the scores of its group "
                          "(types; differential diagnoses; genetic conditions): a relative weight, not a "
                          "calibrated probability."}],
    }
    if a.as_of:
        res["occurrenceDateTime"] = a.as_of[:10]
    if preds:
        res["prediction"] = preds
    return res


def _care_plan(a: Assessment, subject: dict, ci_url: str) -> dict[str, Any]:
    plan = a.management
    as_of = _as_of(a)
    activities: list[dict[str, Any]] = []
    fu = plan.follow_up
    for v in (fu.visits if fu else ()):
        months = v.get("after_months")
        detail: dict[str, Any] = {"kind": "Appointment", "code": {"text": "Follow-up visit"},
                                  "status": "not-started", "description": str(v.get("what") or "follow-up visit")}
        if isinstance(months, (int, float)) and as_of is not None:
            detail["scheduledTiming"] = {"event": [_add_months(as_of, months).isoformat()],
                                         "code": {"text": f"{months:g} months after {as_of.isoformat()}"}}
        elif isinstance(months, (int, float)):
            detail["scheduledString"] = f"{months:g} months after the assessment"
        activities.append({"detail": detail})
    for w in a.missing_workup:
        activities.append({"detail": {
            "kind": "ServiceRequest", "code": _workup_code(w), "status": "not-started",
            "description": f"{w.why} Would change: {w.would_change}".strip(),
            "reasonCode": [{"text": w.why}] if w.why else None,
        }})
    for act in activities:
        act["detail"] = {k: v for k, v in act["detail"].items() if v is not None}
    notes = [f"Strategy: {plan.strategy}"] + [f"Step: {s}" for s in plan.steps]
    notes += [f"Reason: {r.statement}{_sources_text(r.sources)}" for r in plan.reasons]
    if plan.safety:
        notes.append(f"Safety: {plan.safety}")
    notes += [f"Option: {o.name} ({o.evidence}) {o.note}{_sources_text(o.sources)}".strip() for o in plan.options]
    for rf in (fu.red_flags if fu else ()):
        notes.append(f"Red flag: {rf.get('trigger', '')} -> {rf.get('action', '')}")
    notes += [f"Red flag present: {r}" for r in plan.red_flags_present]
    res: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": "draft",
        "intent": "proposal",
        "title": f"Calcinosis cutis plan: {plan.strategy.replace('_', ' ')}",
        "category": [{"coding": [{"system": CODE_SYSTEM + "strategy", "code": plan.strategy}],
                      "text": plan.strategy.replace("_", " ")}],
        "subject": subject,
        "supportingInfo": [{"reference": ci_url}],
        "note": [{"text": t} for t in notes if t],
    }
    if plan.steps:
        res["description"] = " ".join(plan.steps)
    if a.as_of:
        res["created"] = a.as_of[:10]
    if activities:
        res["activity"] = activities
    return res


def assessment_to_fhir(assessment: Assessment, *, patient_ref: str | None = None, findings: Any = None,
                       kb: Any = None) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection): ClinicalImpression, RiskAssessment and CarePlan for one assessment.

    ``patient_ref`` (e.g. ``Patient/123``) defaults to the reader's ``findings.extra["patient_ref"]``.
    """
    maps = get_mappings(kb)
    if patient_ref is None and findings is not None:
        patient_ref = (getattr(findings, "extra", None) or {}).get("patient_ref")
    subject = _subject(patient_ref, assessment)
    ci_url, ra_url, cp_url = (_urn(assessment, k) for k in ("ClinicalImpression", "RiskAssessment", "CarePlan"))
    resources = [
        (ci_url, _clinical_impression(assessment, subject, findings)),
        (ra_url, _risk_assessment(assessment, subject, ci_url, maps)),
        (cp_url, _care_plan(assessment, subject, ci_url)),
    ]
    for url, res in resources:
        res["id"] = url.rsplit(":", 1)[-1]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": _urn(assessment, "Bundle").rsplit(":", 1)[-1],
        "type": "collection",
        "entry": [{"fullUrl": url, "resource": res} for url, res in resources],
    }
    if assessment.as_of:
        bundle["timestamp"] = f"{assessment.as_of[:10]}T00:00:00Z"
    return bundle


def missing_workup_service_requests(assessment: Assessment, patient_ref: str | None) -> list[dict[str, Any]]:
    """One draft ServiceRequest (intent proposal, LOINC-coded) per missing work-up item of the assessment."""
    subject = _subject(patient_ref, assessment)
    out = []
    for w in assessment.missing_workup:
        sr: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "priority": "routine",
            "code": _workup_code(w),
            "subject": subject,
        }
        if w.why:
            sr["reasonCode"] = [{"text": w.why}]
        notes = [t for t in (f"Would change: {w.would_change}" if w.would_change else "",
                             "Essential work-up" if w.essential else "",
                             f"Sources: {', '.join(w.sources)}" if w.sources else "") if t]
        if notes:
            sr["note"] = [{"text": t} for t in notes]
        if assessment.as_of:
            sr["authoredOn"] = assessment.as_of[:10]
        out.append(sr)
    return out
