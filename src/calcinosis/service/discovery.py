"""The CDS Hooks discovery document: one ``patient-view`` service whose prefetch asks for what the KB needs."""

from __future__ import annotations

from typing import Any

from calcinosis.service.settings import SERVICE_ID

PATIENT = "{{context.patientId}}"

#: prefetch key -> FHIR search (the Observation query gets the knowledge base's LOINC codes appended)
PREFETCH_QUERIES: dict[str, str] = {
    "patient": f"Patient/{PATIENT}",
    "observations": f"Observation?patient={PATIENT}",
    "conditions": f"Condition?patient={PATIENT}",
    "medicationAdministrations": f"MedicationAdministration?patient={PATIENT}",
    "medicationRequests": f"MedicationRequest?patient={PATIENT}",
    "procedures": f"Procedure?patient={PATIENT}",
    "diagnosticReports": f"DiagnosticReport?patient={PATIENT}",
    "familyHistory": f"FamilyMemberHistory?patient={PATIENT}",
}

USAGE = (
    "Decision support for clinicians assessing calcinosis cutis (infants and children first); it supports, "
    "and does not replace, the clinician's judgement and is not a diagnosis. Requests must carry a signed "
    "JWT (CDS Hooks 2.0) from an allow-listed issuer; prefetch is used when complete, otherwise the service "
    "reads the FHIR server with fhirAuthorization (read access to the listed resource types)."
)


def kb_loincs(kb: Any) -> list[str]:
    """Every LOINC code named by the knowledge base's analytes (sorted, unique)."""
    analytes = kb.get("analytes") or []
    if isinstance(analytes, dict):
        analytes = analytes.get("analytes", analytes)
        entries = list(analytes.values()) if isinstance(analytes, dict) else list(analytes)
    else:
        entries = list(analytes)
    codes: set[str] = set()
    for a in entries:
        if not isinstance(a, dict):
            continue
        v = a.get("loinc")
        for c in [v] if isinstance(v, str) else (v or []):
            if isinstance(c, str) and c.strip():
                codes.add(c.strip())
    return sorted(codes)


def prefetch_templates(kb: Any) -> dict[str, str]:
    out = dict(PREFETCH_QUERIES)
    codes = kb_loincs(kb)
    if codes:
        out["observations"] += "&code=" + ",".join(f"http://loinc.org|{c}" for c in codes)
    return out


def discovery(kb: Any) -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": "patient-view",
                "id": SERVICE_ID,
                "title": "Calcinosis cutis assessment",
                "description": (
                    "Classifies calcinosis cutis (dystrophic, metastatic, idiopathic, iatrogenic, "
                    "calciphylaxis, or a mimic), names missing essential work-up and proposes a management "
                    f"plan, with reasons and sources (knowledge base {kb.version})."
                ),
                "prefetch": prefetch_templates(kb),
                "usageRequirements": USAGE,
            }
        ]
    }
