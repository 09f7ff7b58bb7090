"""Assess one candidate with the single-patient path: ``read_resources`` + ``assess`` (no rule written twice)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from calcinosis.errors import CalcinosisError
from calcinosis.screening import rules
from calcinosis.screening.config import ScreenConfig

COLUMNS = ("patient_id", "age_days", "age_band", "sex", "signals", "type", "subtype", "certainty", "strategy",
           "missing_workup", "red_flags", "presentation_date", "follow_up", "follow_up_due")


@dataclass(frozen=True)
class Candidate:
    pid: str
    signals: tuple[str, ...]


def parse_lines(lines: list[str]) -> list[dict[str, Any]]:
    try:
        import orjson

        loads = orjson.loads
    except ImportError:  # pragma: no cover
        import json

        loads = json.loads
    return [loads(x) for x in lines]


def findings_and_assessment(resources: list[dict[str, Any]], src: str, as_of: dt.date, kb: Any,
                            validate: bool = True):
    """The single-patient FHIR path, exactly as ``calcinosis assess`` runs it on a Bundle's resources
    (``validate=False``: without the whole-resource R4 model validation, as the CDS Hooks service reads)."""
    from calcinosis.core.assess import assess
    from calcinosis.core.checks import check_findings
    from calcinosis.errors import InputError
    from calcinosis.io.fhir_in import read_resources

    findings = read_resources(resources, src, as_of=as_of.isoformat(), kb=kb, validate=validate)
    issues = [i for i in check_findings(findings, kb) if i.level == "error"]
    if issues:
        raise InputError(issues[0].message, where=issues[0].where, issues=issues, code=issues[0].code)
    return findings, assess(findings, kb, as_of=as_of.isoformat())


def follow_up_status(assessment: Any, presented: dt.date | None, encounters: list[dt.date], as_of: dt.date,
                     tolerance: int) -> tuple[str, str]:
    """("n/a" | "no_date" | "not_due" | "done" | "overdue", due date) for watchful waiting."""
    plan = assessment.management
    if plan.strategy != "watchful_waiting":
        return "n/a", ""
    visits = [v for v in (plan.follow_up.visits if plan.follow_up else ()) if v.get("after_months") is not None]
    if not visits:
        return "no_schedule", ""
    if presented is None:
        return "no_date", ""
    months = min(float(v["after_months"]) for v in visits)
    due = presented + dt.timedelta(days=round(months * 30.44))
    end = due + dt.timedelta(days=tolerance)
    if as_of < end:
        return "not_due", due.isoformat()
    done = any(presented < e <= end for e in encounters)
    return ("done" if done else "overdue"), due.isoformat()


def assess_candidate(cand: Candidate, lines: list[str], cfg: ScreenConfig, as_of: dt.date,
                     kb: Any) -> tuple[dict[str, Any] | None, str]:
    """(output row, assessment JSON) for a candidate, or (None, error message) when it cannot be assessed."""
    try:
        allres = parse_lines(lines)
    except ValueError:
        return None, "candidate's resources could not be parsed"
    resources, encounters = rules.select_resources(allres, cfg, as_of)
    src = f"Patient/{cand.pid}"
    try:
        findings, a = findings_and_assessment(resources, src, as_of, kb, validate=cfg.fhir_validate)
    except CalcinosisError as exc:
        return None, str(exc)
    presented = rules.presentation_date(resources, cfg, as_of)
    fu, due = follow_up_status(a, presented, encounters, as_of, cfg.follow_up_tolerance_days)
    c = a.classification
    age = findings.age_days
    row = {
        "patient_id": cand.pid,
        "age_days": "" if age is None else int(age),
        "age_band": cfg.age_band(age),
        "sex": findings.sex or "",
        "signals": ";".join(cand.signals),
        "type": c.type or "",
        "subtype": c.subtype or "",
        "certainty": c.certainty or "",
        "strategy": a.management.strategy or "",
        "missing_workup": ";".join(sorted(w.id for w in a.missing_workup)),
        "red_flags": ";".join(sorted(a.management.red_flags_present)),
        "presentation_date": presented.isoformat() if presented else "",
        "follow_up": fu,
        "follow_up_due": due,
    }
    return row, assessment_json(a)


def assessment_json(a: Any) -> str:
    """The assessment's JSON contract (``render.json_out.to_dict``), one line, keys sorted."""
    import json

    from calcinosis.render.json_out import to_dict

    return json.dumps(to_dict(a), sort_keys=True, ensure_ascii=False, default=str)
