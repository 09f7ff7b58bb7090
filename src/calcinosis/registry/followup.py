"""From registry records to the core: Findings for a visit, red flags, and the plan update.

Pure functions over snapshots of a patient and their visits; the core (``calcinosis.core.assess``) gives the
assessment, the knowledge base gives the thresholds and red flags (``kb/data/trajectories.yaml``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from calcinosis.core.model import Findings, LabResult, Lesion
from calcinosis.registry.inputs import DAYS_PER_MONTH
from calcinosis.registry.thresholds import Thresholds
from calcinosis.registry.trajectory import GROWING, PatientTrajectory, Point, patient_trajectory

WATCHFUL = "watchful_waiting"


@dataclass(frozen=True, slots=True)
class PatientSnap:
    row_id: int
    birth_date: dt.date | None
    age_days_at_registration: float | None
    registered_on: dt.date
    sex: str | None
    onset_age_days: float | None
    baseline: dict[str, Any] | None = None

    def age_days_on(self, day: dt.date) -> float | None:
        if self.birth_date is not None:
            return float((day - self.birth_date).days)
        if self.age_days_at_registration is not None:
            return self.age_days_at_registration + (day - self.registered_on).days
        return None

    def earliest_possible_date(self) -> dt.date | None:
        """The birth date, or the date implied by the age at registration."""
        if self.birth_date is not None:
            return self.birth_date
        if self.age_days_at_registration is not None:
            return self.registered_on - dt.timedelta(days=int(self.age_days_at_registration))
        return None


@dataclass(frozen=True, slots=True)
class MeasureSnap:
    label: str
    site: str
    longest_mm: float | None
    second_mm: float | None
    count: int | None
    status: str


@dataclass(frozen=True, slots=True)
class VisitSnap:
    date: dt.date
    age_days: float | None
    findings: dict[str, Any]
    labs: tuple[dict[str, Any], ...]
    measurements: tuple[MeasureSnap, ...] = ()


@dataclass(frozen=True, slots=True)
class RedFlag:
    id: str
    label: str
    detail: str
    action: str
    sources: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "detail": self.detail, "action": self.action,
                "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class Course:
    """The trajectory up to a visit, the onset and the window in which growth is expected."""

    trajectory: PatientTrajectory
    onset_age_days: float | None
    window_months: float
    window_id: str
    window_end_age_days: float | None
    window_sources: tuple[str, ...] = field(default=())


def trajectory_of(visits: list[VisitSnap], t: Thresholds) -> PatientTrajectory:
    series: dict[str, list[Point]] = {}
    for v in visits:
        for m in v.measurements:
            series.setdefault(m.label, []).append(Point(v.date, v.age_days, m.longest_mm, m.status))
    return patient_trajectory(series, [v.date for v in visits], t)


def onset_age_days(patient: PatientSnap, visits: list[VisitSnap]) -> float | None:
    """Onset: as registered, else the baseline case's onset, else the first visit with a lesion."""
    if patient.onset_age_days is not None:
        return patient.onset_age_days
    base = patient.baseline or {}
    if isinstance(base.get("onset_age_months"), (int, float)):
        return float(base["onset_age_months"]) * DAYS_PER_MONTH
    for v in visits:
        if any(m.status != "resolved" for m in v.measurements):
            return v.age_days
    return None


def course_of(patient: PatientSnap, visits: list[VisitSnap], t: Thresholds, type_: str | None) -> Course:
    w = t.window_for(type_)
    onset = onset_age_days(patient, visits)
    end = None if onset is None else onset + w.months_after_onset * DAYS_PER_MONTH
    return Course(trajectory_of(visits, t), onset, w.months_after_onset, w.id, end, w.sources)


def build_findings(patient: PatientSnap, visit: VisitSnap, prior_labs: bool = True) -> Findings:
    """Findings at one visit: the baseline case (history, histology, baseline labs) updated by the visit."""
    if patient.baseline:
        from calcinosis.io.read import read_obj

        base = read_obj(patient.baseline, "baseline case")
    else:
        base = Findings(id="")
    f = visit.findings
    present = [m for m in visit.measurements if m.status != "resolved"]
    sites: list[str] = []
    for m in present:
        sites.extend([m.site] * min(m.count or 1, 20))
    sizes = [m.longest_mm for m in present if m.longest_mm is not None]
    ulcerated = f.get("ulcerated")
    if any(m.status == "ulcerated" for m in present):
        ulcerated = True
    parts = [f"{m.label} {m.longest_mm:g}" + (f"x{m.second_mm:g}" if m.second_mm else "") + " mm"
             for m in present if m.longest_mm]
    desc = base.lesion.description or ""
    follow = (f"follow-up {visit.date.isoformat()}: " + (", ".join(parts) if parts else "lesions present")
              if present else f"follow-up {visit.date.isoformat()}: all recorded lesions resolved")
    lesion = Lesion(
        sites=tuple(sites) if visit.measurements else base.lesion.sites,
        count=sum(m.count or 1 for m in present) if visit.measurements else base.lesion.count,
        count_text=None if visit.measurements else base.lesion.count_text,
        max_size_mm=max(sizes) if sizes else (None if visit.measurements else base.lesion.max_size_mm),
        painful=f.get("painful", base.lesion.painful),
        ulcerated=ulcerated if ulcerated is not None else base.lesion.ulcerated,
        inflammation=True if f.get("infection") else f.get("inflammation", base.lesion.inflammation),
        description=f"{desc}; {follow}" if desc else follow,
    )
    other = list(base.history.other_conditions)
    if f.get("infection"):
        other.append("infection at a lesion site")
    other.extend(f.get("systemic") or [])
    labs = list(base.labs) if prior_labs else []
    for i, lab in enumerate(visit.labs):
        labs.append(LabResult(analyte=lab["analyte"], value=lab.get("value"), unit=lab.get("unit"),
                              reported_as=lab.get("reported_as"), age_days=visit.age_days,
                              where=f"visit {visit.date.isoformat()}: labs[{i}]"))
    return dataclasses.replace(
        base, id=f"registry-{patient.row_id}-{visit.date.isoformat()}", age_days=visit.age_days,
        age_text=None, sex=patient.sex or base.sex, onset_age_days=base.onset_age_days or patient.onset_age_days,
        lesion=lesion, history=dataclasses.replace(base.history, other_conditions=tuple(other)),
        labs=tuple(labs), source_format="calcinosis-registry", source_name=f"registry visit {visit.date.isoformat()}",
    )


def red_flags(visit: VisitSnap, course: Course, t: Thresholds, lab_readings: tuple[Any, ...] = ()) -> list[RedFlag]:
    """Red flags present at ``visit`` (the latest of ``course``)."""
    out: list[RedFlag] = []
    traj = course.trajectory
    late = (course.window_end_age_days is not None and visit.age_days is not None
            and visit.age_days > course.window_end_age_days)
    window_txt = f"{course.window_months:g} months after onset ({course.window_id})"
    for rule in t.red_flags:
        detail = None
        if rule.id == "growth_after_window" and late:
            growing = [lab for lab, lt in traj.lesions.items() if lt.current == GROWING]
            if growing:
                detail = f"{', '.join(growing)} growing on {visit.date} beyond {window_txt}"
        elif rule.id == "new_lesion_after_window" and late and traj.new_lesions_at_latest:
            detail = f"new lesion(s) {', '.join(traj.new_lesions_at_latest)} on {visit.date} beyond {window_txt}"
        elif rule.kind == "finding" and rule.finding:
            val = visit.findings.get(rule.finding)
            if rule.finding == "ulcerated" and any(m.status == "ulcerated" for m in visit.measurements):
                val = True
            if val is True:
                detail = f"{rule.finding} recorded on {visit.date}"
            elif isinstance(val, list) and val:
                detail = f"{'; '.join(val)} recorded on {visit.date}"
        elif rule.kind == "labs":
            prefix = f"visit {visit.date.isoformat()}:"
            bad = [r for r in lab_readings if str(getattr(r, "where", "")).startswith(prefix)
                   and getattr(r, "flag", None) in rule.flags]
            if bad:
                detail = "; ".join(f"{r.label or r.reported_name} {r.flag}" for r in bad)
        if detail:
            out.append(RedFlag(rule.id, rule.label, detail, rule.action, rule.sources))
    return out


def plan_change(previous_strategy: str | None, new_strategy: str | None, flags: list[RedFlag]) -> dict[str, Any]:
    """Why the plan changed (or not): red flags end watchful waiting even when the core still proposes it."""
    waiting = WATCHFUL in (previous_strategy, new_strategy)
    ended = bool(flags) and waiting
    effective = "reassess_after_red_flag" if (flags and new_strategy == WATCHFUL) else new_strategy
    if ended:
        why = "watchful waiting ended: " + "; ".join(f"{f.label} ({f.detail})" for f in flags)
    elif previous_strategy and previous_strategy != new_strategy:
        why = f"the re-assessment changed the strategy from {previous_strategy} to {new_strategy}"
    elif flags:
        why = "red flags: " + "; ".join(f"{f.label} ({f.detail})" for f in flags)
    else:
        why = "no red flag; plan unchanged" if previous_strategy else "first assessment"
    return {
        "previous_strategy": previous_strategy,
        "strategy": new_strategy,
        "effective_strategy": effective,
        "changed": previous_strategy is not None and previous_strategy != effective,
        "watchful_waiting_ended": ended,
        "red_flags": [f.as_dict() for f in flags],
        "why": why,
    }
