"""Python API of the registry (used by the CLI and the web service).

``open_registry(url)`` returns a :class:`Registry`; ``Registry.patient_timeline(patient_id)`` gives visits,
lesions, measurements, trajectory and the current plan as a JSON-ready dict; ``Registry.chart_svg`` the chart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from calcinosis.errors import InputError
from calcinosis.registry import db, followup
from calcinosis.registry.inputs import DAYS_PER_MONTH, PatientInput, VisitInput
from calcinosis.registry.thresholds import load_thresholds
from calcinosis.registry.write import Writer, snapshots


def _months(days: float | None) -> float | None:
    return None if days is None else round(days / DAYS_PER_MONTH, 2)


class Registry:
    """One registry database. ``today`` (for date checks) and ``kb`` are injectable."""

    def __init__(self, url: str | None = None, *, kb: Any = None, today: dt.date | None = None,
                 actor: str | None = None, check: bool = True):
        self.url = url or db.default_url()
        self.engine = db.make_engine(self.url)
        if check:
            db.check_ready(self.engine)
        self.writer = Writer(self.engine, kb=kb, actor=actor, today=today)

    @property
    def kb(self) -> Any:
        return self.writer.kb

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes (all through the Writer) --------------------------------------------------------------
    def add_patient(self, patient: PatientInput) -> int:
        return self.writer.add_patient(patient)

    def add_visit(self, patient_id: str, visit: VisitInput, *, reassess: str = "auto") -> dict[str, Any]:
        return self.writer.add_visit(patient_id, visit, reassess=reassess)

    # -- reads -----------------------------------------------------------------------------------------
    def _load(self, session: Any, patient_id: str) -> Any:
        from sqlalchemy import select

        from calcinosis.registry.models import Patient

        row = session.scalar(select(Patient).where(Patient.pseudonym == patient_id))
        if row is None:
            raise InputError("unknown patient", where="patient id", code="UNKNOWN_PATIENT",
                             hint="list patients with: calcinosis registry show --all")
        return row

    def patient_ids(self) -> list[str]:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from calcinosis.registry.models import Patient

        with Session(self.engine) as s:
            return list(s.scalars(select(Patient.pseudonym).order_by(Patient.pseudonym)))

    def snapshot(self, patient_id: str) -> tuple[followup.PatientSnap, list[followup.VisitSnap], list[dict[str, Any]]]:
        """(patient, visits, stored assessments as dicts) of one patient."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from calcinosis.registry.models import AssessmentRow

        with Session(self.engine) as s:
            row = self._load(s, patient_id)
            snap, visits = snapshots(s, row)
            arows = s.scalars(select(AssessmentRow).where(AssessmentRow.patient_id == row.id)
                              .order_by(AssessmentRow.as_of, AssessmentRow.id)).all()
            assessments = [{"id": a.id, "as_of": a.as_of.isoformat(), "kb_version": a.kb_version,
                            "kb_hash": a.kb_hash, "strategy": a.strategy, "plan_change": a.plan_change,
                            "result": a.result} for a in arows]
        return snap, visits, assessments

    def patient_timeline(self, patient_id: str) -> dict[str, Any]:
        """Visits, lesions with their measurements, the trajectory and the current plan, as a dict."""
        snap, visits, assessments = self.snapshot(patient_id)
        t = load_thresholds(self.kb)
        last = assessments[-1] if assessments else None
        type_ = (last["plan_change"] or {}).get("classification_type") if last else None
        course = followup.course_of(snap, visits, t, type_)
        traj = course.trajectory
        state_at = dict(traj.per_visit)
        lesions = []
        for label, lt in traj.lesions.items():
            points = [(v, m) for v in visits for m in v.measurements if m.label == label]
            lesions.append({
                "label": label, "site": points[0][1].site, "first_seen": lt.first_seen.isoformat(),
                "new": lt.is_new, "trajectory": lt.current, "peak_mm": lt.peak_mm,
                "peak_date": lt.peak_date.isoformat() if lt.peak_date else None,
                "regression_date": lt.regression_date.isoformat() if lt.regression_date else None,
                "days_to_regression": lt.days_to_regression,
                "resolved_date": lt.resolved_date.isoformat() if lt.resolved_date else None,
                "days_to_resolution": lt.days_to_resolution,
                "measurements": [{"date": v.date.isoformat(), "age_months": _months(v.age_days),
                                  "longest_mm": m.longest_mm, "second_mm": m.second_mm, "count": m.count,
                                  "status": m.status, "trajectory": st}
                                 for (v, m), st in zip(points, lt.states)],
            })
        events = []
        for a in assessments:
            pc = a["plan_change"] or {}
            for f in pc.get("red_flags") or []:
                events.append({"date": a["as_of"], "kind": "red_flag", "label": f["label"], "detail": f["detail"]})
            if pc.get("changed") or pc.get("watchful_waiting_ended"):
                events.append({"date": a["as_of"], "kind": "plan_change", "label": pc.get("why")})
        if traj.resolved_date:
            events.append({"date": traj.resolved_date.isoformat(), "kind": "resolved", "label": "all lesions resolved"})
        for lab, lt in traj.lesions.items():
            if lt.is_new:
                events.append({"date": lt.first_seen.isoformat(), "kind": "new_lesion", "label": f"new lesion {lab}"})
        for e in events:
            e["age_months"] = _months(snap.age_days_on(dt.date.fromisoformat(e["date"])))
        plan = None
        if last:
            pc = last["plan_change"] or {}
            plan = {"as_of": last["as_of"], "assessment_id": last["id"], "kb_version": last["kb_version"],
                    "strategy": last["strategy"], "effective_strategy": pc.get("effective_strategy", last["strategy"]),
                    "watchful_waiting_ended": pc.get("watchful_waiting_ended", False), "why": pc.get("why"),
                    "red_flags": pc.get("red_flags", [])}
        return {
            "patient": {"id": patient_id, "sex": snap.sex,
                        "birth_date": snap.birth_date.isoformat() if snap.birth_date else None,
                        "onset_age_months": _months(course.onset_age_days)},
            "visits": [{"date": v.date.isoformat(), "age_months": _months(v.age_days), "findings": v.findings,
                        "labs": list(v.labs), "trajectory": state_at.get(v.date),
                        "measurements": [{"lesion": m.label, "longest_mm": m.longest_mm, "second_mm": m.second_mm,
                                          "count": m.count, "status": m.status} for m in v.measurements]}
                       for v in visits],
            "lesions": lesions,
            "trajectory": {"current": traj.current,
                           "per_visit": [{"date": d.isoformat(), "trajectory": s} for d, s in traj.per_visit],
                           "new_lesions_at_latest": list(traj.new_lesions_at_latest),
                           "days_to_regression": traj.days_to_regression,
                           "days_to_resolution": traj.days_to_resolution,
                           "resolved_date": traj.resolved_date.isoformat() if traj.resolved_date else None},
            "window": {"id": course.window_id, "months_after_onset": course.window_months,
                       "end_age_months": _months(course.window_end_age_days), "sources": list(course.window_sources)},
            "thresholds": {"growth": t.growth, "regression": t.regression, "min_absolute_change_mm": t.min_abs_mm,
                           "sources": list(t.sources)},
            "current_plan": plan,
            "assessments": [{k: a[k] for k in ("id", "as_of", "kb_version", "strategy", "plan_change")}
                            for a in assessments],
            "events": sorted(events, key=lambda e: e["date"]),
        }

    # -- renderings ------------------------------------------------------------------------------------
    def chart_svg(self, patient_id: str) -> str:
        from calcinosis.registry.chart import render_chart

        return render_chart(self.patient_timeline(patient_id), "svg").decode("utf-8")

    def chart_png(self, patient_id: str) -> bytes:
        from calcinosis.registry.chart import render_chart

        return render_chart(self.patient_timeline(patient_id), "png")

    def report_html(self, patient_id: str) -> str:
        from calcinosis.registry.report import report_html

        return report_html(self, patient_id)

    def report_pdf(self, patient_id: str) -> bytes:
        from calcinosis.registry.report import html_to_pdf

        return html_to_pdf(self.report_html(patient_id))

    def integrity_problems(self) -> list[str]:
        from calcinosis.registry.integrity import integrity_problems

        return integrity_problems(self.engine)


def open_registry(url: str | None = None, **kw: Any) -> Registry:
    """Open a migrated registry (default: the SQLite file in the user's data folder)."""
    return Registry(url, **kw)


def init_registry(url: str | None = None) -> tuple[str, str]:
    """Create or upgrade the database to the current schema; returns (safe URL, revision)."""
    engine = db.make_engine(url)
    try:
        rev = db.migrate(engine)
    finally:
        engine.dispose()
    return db.safe_url(str(engine.url)), rev
