"""Render one Assessment as CDS Hooks 2.0 cards (a rendering of the result object, nothing decided here).

Indicator: ``critical`` for calciphylaxis or a metastatic picture, ``warning`` when essential work-up is
missing, ``info`` otherwise. Card and suggestion ``uuid``s are UUIDv5 of the hookInstance and a stable key,
so the same call always yields the same ids (and feedback can name them).
"""

from __future__ import annotations

import uuid
from typing import Any

from calcinosis import INTENDED_USE

CRITICAL_TYPES = frozenset({"calciphylaxis", "metastatic"})
SUMMARY_MAX = 139  # the spec: "<140 characters"
NAMESPACE = uuid.UUID("6f1d3c52-3b8e-5b0a-9d0e-0c1a1c1c0a11")
OVERRIDE_SYSTEM = "https://calcinosis.invalid/fhir/CodeSystem/cds-override-reason"
TOPIC_SYSTEM = "https://calcinosis.invalid/fhir/CodeSystem/cds-card-topic"

#: Why a clinician may decline the card (shown by the EHR; the chosen one comes back as feedback).
OVERRIDE_REASONS: tuple[dict[str, str], ...] = (
    {"code": "already-done", "system": OVERRIDE_SYSTEM, "display": "Work-up already done or ordered"},
    {"code": "disagree-classification", "system": OVERRIDE_SYSTEM, "display": "Disagree with the classification"},
    {"code": "not-calcinosis", "system": OVERRIDE_SYSTEM, "display": "Lesion is not calcinosis cutis"},
    {"code": "patient-declined", "system": OVERRIDE_SYSTEM, "display": "Patient or family declined"},
    {"code": "not-relevant-now", "system": OVERRIDE_SYSTEM, "display": "Not relevant at this visit"},
)


def words(code: str | None) -> str:
    return (code or "").replace("_", " ")


def stable_uuid(hook_instance: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{hook_instance}/{key}"))


def indicator(a: Any) -> str:
    if a.classification.type in CRITICAL_TYPES:
        return "critical"
    if any(w.essential for w in a.missing_workup):
        return "warning"
    return "info"


def classification_text(a: Any) -> str:
    c = a.classification
    if not c.type:
        return "type undetermined"
    text = words(c.type)
    if c.subtype_label or c.subtype:
        text += f" ({c.subtype_label or words(c.subtype)})"
    if c.certainty:
        text += f", {c.certainty}"
    return text


def summary(a: Any) -> str:
    n_missing = sum(1 for w in a.missing_workup if w.essential)
    text = f"Calcinosis cutis: {classification_text(a)}; plan: {words(a.management.strategy)}"
    if n_missing:
        text += f"; {n_missing} essential test{'s' if n_missing > 1 else ''} missing"
    if len(text) > SUMMARY_MAX:
        text = text[: SUMMARY_MAX - 1].rstrip() + "…"
    return text


def _refs(ids: Any) -> str:
    ids = [i for i in (ids or ()) if i]
    return f" [{', '.join(ids)}]" if ids else ""


def detail_markdown(a: Any) -> str:
    """Markdown for the card: classification with reasons, labs, work-up, plan, red flags and sources."""
    c, m = a.classification, a.management
    out = [f"**Classification:** {classification_text(a)}", ""]
    for r in c.reasons:
        out.append(f"- {r.statement}{_refs(r.sources)}")
    flagged = [r for r in a.labs if r.flag not in ("normal", "negative")]
    if flagged:
        out += ["", "**Laboratory results outside the age interval or not interpretable:**"]
        for r in flagged:
            val = "" if r.value is None else f" {r.value}{(' ' + r.unit) if r.unit else ''}"
            out.append(f"- {r.label}:{val} — {words(r.flag)}")
    if a.not_measured:
        out += ["", f"**Not measured:** {', '.join(words(x) for x in a.not_measured)}"]
    if a.missing_workup:
        out += ["", "**Missing work-up:**"]
        for w in a.missing_workup:
            tag = " (essential)" if w.essential else ""
            out.append(f"- {w.label}{tag}: {w.why}{_refs(w.sources)}")
    out += ["", f"**Plan:** {words(m.strategy)}"]
    for s in m.steps:
        out.append(f"- {s}")
    if m.safety:
        out += ["", f"**Safety:** {m.safety}"]
    if m.red_flags_present:
        out += ["", f"**Red flags present:** {', '.join(words(x) for x in m.red_flags_present)}"]
    cited = {rid for r in (*c.reasons, *m.reasons) for rid in r.sources}
    cited |= {rid for w in a.missing_workup for rid in w.sources}
    shown = [(rid, ref) for rid, ref in a.sources.items() if rid in cited]
    if shown:
        out += ["", "**Sources:**"]
        for rid, ref in shown:
            url = ref.get("url")
            cit = ref.get("citation", rid)
            out.append(f"- {rid}: [{cit}]({url})" if url else f"- {rid}: {cit}")
    kb = a.knowledge or {}
    use = a.intended_use or INTENDED_USE
    out += ["", f"_{use} Knowledge base {kb.get('version', '?')} ({kb.get('hash', '?')})._"]
    return "\n".join(out)


def suggestions(a: Any, patient_id: str, hook_instance: str) -> list[dict[str, Any]]:
    """One suggestion per missing laboratory test: create its draft ServiceRequest (LOINC-coded, from the FHIR writer,
    which returns one per ``missing_workup`` item, in order)."""
    if not a.missing_workup:
        return []
    from calcinosis.io.fhir_out import missing_workup_service_requests

    out = []
    for w, sr in zip(a.missing_workup, missing_workup_service_requests(a, f"Patient/{patient_id}")):
        if not w.loinc:  # history to take or an examination: named in the detail, not orderable
            continue
        label = f"Order {w.label}"[:140]
        out.append({
            "label": label,
            "uuid": stable_uuid(hook_instance, f"suggestion/{w.id}"),
            "isRecommended": bool(w.essential),
            "actions": [{"type": "create", "description": label, "resource": sr}],
        })
    return out


def cards(a: Any, *, patient_id: str, hook_instance: str, base_url: str, view_url: str | None) -> list[dict]:
    """The cards for one assessment (none when the chart describes no lesion and nothing was classified)."""
    if not a.lesion_described and not a.classification.type:
        return []
    card: dict[str, Any] = {
        "uuid": stable_uuid(hook_instance, "assessment"),
        "summary": summary(a),
        "indicator": indicator(a),
        "detail": detail_markdown(a),
        "source": {
            "label": "calcinosis decision support",
            "url": f"{base_url}/about",
            "topic": {"code": "calcinosis-cutis-assessment", "system": TOPIC_SYSTEM,
                      "display": "Calcinosis cutis assessment"},
        },
        "overrideReasons": [dict(r) for r in OVERRIDE_REASONS],
    }
    sugg = suggestions(a, patient_id, hook_instance)
    if sugg:
        card["suggestions"] = sugg
        card["selectionBehavior"] = "any"
    if view_url:
        card["links"] = [{"label": "Full assessment (reasons, differential, follow-up)", "url": view_url,
                          "type": "absolute"}]
    return [card]
