"""The one write path of the registry: validated writes in transactions, each with its audit entries.

Concurrency: SQLite runs in WAL mode with a busy timeout and ``BEGIN IMMEDIATE``; a transaction that still
meets a lock (or a PostgreSQL serialization failure / deadlock) is rolled back and retried. Every visit
carries a unique ``uid`` (idempotency key), so a retry never stores a visit twice. Logs name internal row
ids only, never the pseudonymous id or the birth date.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from calcinosis.errors import InputError, Issue
from calcinosis.registry import followup
from calcinosis.registry.errors import RegistryWriteError
from calcinosis.registry.inputs import PatientInput, VisitInput, check_patient, check_visit
from calcinosis.registry.thresholds import load_thresholds

log = logging.getLogger("calcinosis.registry")
T = TypeVar("T")
RETRY_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _retryable(exc: Exception) -> bool:
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.OperationalError):
        msg = str(exc.orig).lower()
        if "locked" in msg or "busy" in msg:
            return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return state in RETRY_SQLSTATES


def snapshots(session: Any, patient: Any) -> tuple[followup.PatientSnap, list[followup.VisitSnap]]:
    """Plain snapshots of a patient row and its visits (ordered by date) for the pure functions."""
    from sqlalchemy import select

    from calcinosis.registry.models import Lesion, Measurement, Visit

    snap = followup.PatientSnap(patient.id, patient.birth_date, patient.age_days_at_registration,
                                patient.registered_on, patient.sex, patient.onset_age_days, patient.baseline)
    rows = session.execute(
        select(Visit, Measurement, Lesion)
        .outerjoin(Measurement, Measurement.visit_id == Visit.id)
        .outerjoin(Lesion, Lesion.id == Measurement.lesion_id)
        .where(Visit.patient_id == patient.id).order_by(Visit.visit_date, Lesion.id)).all()
    visits: dict[int, followup.VisitSnap] = {}
    meas: dict[int, list[followup.MeasureSnap]] = {}
    for v, m, le in rows:
        if v.id not in visits:
            visits[v.id] = followup.VisitSnap(v.visit_date, v.age_days, dict(v.findings or {}),
                                              tuple(v.labs or ()))
            meas[v.id] = []
        if m is not None:
            meas[v.id].append(followup.MeasureSnap(le.label, le.site, m.longest_mm, m.second_mm, m.count, m.status))
    out = [followup.VisitSnap(s.date, s.age_days, s.findings, s.labs, tuple(meas[vid])) for vid, s in visits.items()]
    return snap, out


def assessment_json(assessment: Any) -> dict[str, Any]:
    """The JSON contract of an assessment (``calcinosis.render.json_out.to_dict``)."""
    from calcinosis.render.json_out import to_dict

    return to_dict(assessment)


class Writer:
    """Validated, audited, transactional writes. ``today`` is injectable (default: the local date)."""

    def __init__(self, engine: Any, *, kb: Any = None, actor: str | None = None, today: dt.date | None = None,
                 max_retries: int = 200):
        from calcinosis.registry.db import write_engine

        self.engine = write_engine(engine)
        self._kb = kb
        self.actor = actor or _default_actor()
        self.today = today or dt.date.today()
        self.max_retries = max_retries
        self.before_commit: Callable[[Any], None] | None = None  # test seam: runs inside the transaction

    @property
    def kb(self) -> Any:
        if self._kb is None:
            from calcinosis.kb import load_kb

            self._kb = load_kb()
        return self._kb

    # -- transactions ----------------------------------------------------------------------------------
    def _run(self, fn: Callable[[Any], T]) -> T:
        from sqlalchemy.orm import Session

        delay = 0.005
        for attempt in range(self.max_retries + 1):
            try:
                with Session(self.engine, expire_on_commit=False) as session, session.begin():
                    result = fn(session)
                    if self.before_commit is not None:
                        self.before_commit(session)
                return result
            except InputError:
                raise
            except Exception as exc:
                from sqlalchemy import exc as sa_exc

                if isinstance(exc, sa_exc.IntegrityError) and attempt < 3:
                    continue  # a concurrent insert won a race; the retry re-checks and reports it clearly
                if not _retryable(exc) or attempt == self.max_retries:
                    if _retryable(exc):
                        raise RegistryWriteError("the registry database stayed locked; nothing was written",
                                                 hint="retry later") from exc
                    raise
                log.debug("write retried after a lock (attempt %d)", attempt + 1)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.2)
        raise AssertionError("unreachable")  # pragma: no cover

    def _audit(self, session: Any, action: str, entity: str, entity_id: int, changes: dict[str, Any]) -> None:
        from calcinosis.registry.models import AuditEntry

        session.add(AuditEntry(at=_now(), actor=self.actor, action=action, entity=entity, entity_id=entity_id,
                               changes=changes))

    # -- patients --------------------------------------------------------------------------------------
    def add_patient(self, p: PatientInput) -> int:
        p = check_patient(p, self.today)
        if p.baseline is not None:
            from calcinosis.io.read import read_obj

            read_obj(p.baseline, "--case", kb=self.kb)  # refuse a bad baseline case before writing

        def fn(session: Any) -> int:
            from sqlalchemy import select

            from calcinosis.registry.models import Patient

            if session.scalar(select(Patient.id).where(Patient.pseudonym == p.pseudonym)) is not None:
                raise InputError("a patient with this id is already registered", where="patient id",
                                 code="DUPLICATE_PATIENT", hint="choose another pseudonymous id")
            row = Patient(pseudonym=p.pseudonym, birth_date=p.birth_date, age_days_at_registration=p.age_days,
                          registered_on=self.today, sex=p.sex, onset_age_days=p.onset_age_days,
                          baseline=p.baseline, created_at=_now())
            session.add(row)
            session.flush()
            self._audit(session, "insert", "patient", row.id, {
                "pseudonym": p.pseudonym, "birth_date": p.birth_date.isoformat() if p.birth_date else None,
                "age_days_at_registration": p.age_days, "sex": p.sex, "onset_age_days": p.onset_age_days,
                "baseline": p.baseline is not None})
            return row.id

        rid = self._run(fn)
        log.info("patient row %d stored", rid)
        return rid

    # -- visits ----------------------------------------------------------------------------------------
    def add_visit(self, pseudonym: str, visit: VisitInput, *, reassess: str = "auto") -> dict[str, Any]:
        """Store one visit (with its lesions, measurements, audit entries and, when due, a new assessment).

        ``reassess``: "auto" (first visit, red flags or labs), "always" or "never".
        """
        if reassess not in ("auto", "always", "never"):
            raise ValueError(reassess)
        visit = check_visit(visit)
        uid = visit.uid or uuid.uuid4().hex
        t = load_thresholds(self.kb)

        def fn(session: Any) -> dict[str, Any]:
            return self._add_visit_tx(session, pseudonym, visit, uid, reassess, t)

        out = self._run(fn)
        if out.get("already_stored"):
            log.info("visit row %d already stored (idempotent retry)", out["visit_id"])
            return out
        log.info("visit row %d stored (patient row %d, %d measurements)", out["visit_id"], out["patient_row"],
                 len(visit.lesions))
        return out

    def _add_visit_tx(self, session: Any, pseudonym: str, visit: VisitInput, uid: str, reassess: str,
                      t: Any) -> dict[str, Any]:
        from sqlalchemy import select

        from calcinosis.registry.models import AssessmentRow, Lesion, Measurement, Patient, Visit

        done = session.scalar(select(Visit.id).where(Visit.uid == uid))
        if done is not None:
            return {"visit_id": done, "uid": uid, "already_stored": True}
        patient = session.scalar(select(Patient).where(Patient.pseudonym == pseudonym))
        if patient is None:
            raise InputError("unknown patient", where="patient id", code="UNKNOWN_PATIENT",
                             hint="register the patient first: calcinosis registry add-patient ID ...")
        issues: list[Issue] = []
        if visit.date > self.today:
            issues.append(Issue("error", "IMPOSSIBLE_VALUE", f"visit date {visit.date} is in the future "
                                f"(today is {self.today})", "date", "give the date of a visit that took place"))
        snap, prior = snapshots(session, patient)
        earliest = snap.earliest_possible_date()
        if earliest is not None and visit.date < earliest:
            issues.append(Issue("error", "IMPOSSIBLE_VALUE", f"visit date {visit.date} is before the patient's "
                                f"birth ({earliest})", "date", None))
        if any(v.date == visit.date for v in prior):
            issues.append(Issue("error", "DUPLICATE_VISIT", f"a visit on {visit.date} is already stored",
                                "date", "one visit per patient and day"))
        lesions = {le.label: le for le in session.scalars(select(Lesion).where(Lesion.patient_id == patient.id))}
        for i, le in enumerate(visit.lesions):
            if le.status == "resolved" and le.label not in lesions:
                issues.append(Issue("error", "UNKNOWN_LESION", f"unknown lesion {le.label!r}: it was never recorded",
                                    f"lesions[{i}].label",
                                    f"recorded lesions: {', '.join(sorted(lesions)) or 'none'}"))
        if issues:
            raise InputError(issues[0].message, where=issues[0].where, issues=issues, code=issues[0].code)

        age = snap.age_days_on(visit.date)
        sites = {lab: le.site for lab, le in lesions.items()}
        new_snap = followup.VisitSnap(visit.date, age, dict(visit.findings), tuple(visit.labs), tuple(
            followup.MeasureSnap(m.label, sites.get(m.label, m.site), m.longest_mm, m.second_mm, m.count, m.status)
            for m in visit.lesions))
        visits = sorted([*prior, new_snap], key=lambda v: v.date)
        last = session.scalars(select(AssessmentRow).where(AssessmentRow.patient_id == patient.id)
                               .order_by(AssessmentRow.as_of.desc(), AssessmentRow.id.desc()).limit(1)).first()
        prev_strategy = last.strategy if last else None
        prev_type = (last.plan_change or {}).get("classification_type") if last else None
        course = followup.course_of(snap, visits, t, prev_type)
        flags = followup.red_flags(new_snap, course, t)
        latest = visits[-1].date == visit.date
        do_assess = reassess == "always" or (reassess == "auto" and latest and (last is None or flags or visit.labs))
        assessment_row = None
        if do_assess or visit.labs:
            findings = followup.build_findings(snap, new_snap)
            from calcinosis.core.checks import check_findings

            bad = [i for i in check_findings(findings, self.kb) if i.level == "error"]
            if bad:
                raise InputError(bad[0].message, where=bad[0].where, issues=bad, code=bad[0].code)
        if do_assess:
            from calcinosis.core.assess import assess

            result = assess(findings, self.kb, as_of=visit.date.isoformat())
            type_ = result.classification.type
            course = followup.course_of(snap, visits, t, type_)
            flags = followup.red_flags(new_snap, course, t, result.labs)
            change = followup.plan_change(prev_strategy, result.management.strategy, flags)
            change["classification_type"] = type_
            change["trajectory"] = course.trajectory.current
            assessment_row = (result, change)

        row = Visit(uid=uid, patient_id=patient.id, visit_date=visit.date, age_days=age,
                    findings=dict(visit.findings), labs=list(visit.labs), created_at=_now())
        session.add(row)
        session.flush()
        self._audit(session, "insert", "visit", row.id, {
            "patient_row": patient.id, "visit_date": visit.date.isoformat(), "findings": dict(visit.findings),
            "labs": list(visit.labs)})
        for m in visit.lesions:
            le = lesions.get(m.label)
            if le is None:
                le = Lesion(patient_id=patient.id, label=m.label, site=m.site, created_at=_now())
                session.add(le)
                session.flush()
                lesions[m.label] = le
                self._audit(session, "insert", "lesion", le.id, {"patient_row": patient.id, "label": m.label,
                                                                 "site": m.site})
            mrow = Measurement(visit_id=row.id, lesion_id=le.id, longest_mm=m.longest_mm, second_mm=m.second_mm,
                               count=m.count, status=m.status)
            session.add(mrow)
            session.flush()
            self._audit(session, "insert", "measurement", mrow.id, {
                "visit_row": row.id, "lesion": m.label, "longest_mm": m.longest_mm, "second_mm": m.second_mm,
                "count": m.count, "status": m.status})
        out: dict[str, Any] = {"visit_id": row.id, "uid": uid, "patient_row": patient.id,
                               "date": visit.date.isoformat(), "trajectory": course.trajectory.current,
                               "red_flags": [f.as_dict() for f in flags], "assessment_id": None, "plan": None}
        if assessment_row is not None:
            result, change = assessment_row
            kb_desc = result.knowledge or {}
            arow = AssessmentRow(patient_id=patient.id, visit_id=row.id, as_of=visit.date,
                                 kb_version=str(kb_desc.get("version", self.kb.version)),
                                 kb_hash=str(kb_desc.get("hash", self.kb.content_hash)),
                                 strategy=result.management.strategy, result=assessment_json(result),
                                 plan_change=change, created_at=_now())
            session.add(arow)
            session.flush()
            self._audit(session, "insert", "assessment", arow.id, {
                "visit_row": row.id, "kb_version": arow.kb_version, "strategy": arow.strategy,
                "plan_change": change})
            out["assessment_id"] = arow.id
            out["plan"] = change
        return out


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
