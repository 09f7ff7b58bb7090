"""SQLAlchemy 2 models of the registry. The schema itself is created by the Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("present", "ulcerated", "resolved")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    age_days_at_registration: Mapped[float | None] = mapped_column(Float)
    registered_on: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(8))
    onset_age_days: Mapped[float | None] = mapped_column(Float)
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    visits: Mapped[list[Visit]] = relationship(back_populates="patient", order_by="Visit.visit_date")
    lesions: Mapped[list[Lesion]] = relationship(back_populates="patient", order_by="Lesion.id")

    __table_args__ = (CheckConstraint("sex IS NULL OR sex IN ('female', 'male')", name="ck_patients_sex"),)


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    visit_date: Mapped[dt.date] = mapped_column(Date)
    age_days: Mapped[float | None] = mapped_column(Float)
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)
    labs: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    patient: Mapped[Patient] = relationship(back_populates="visits")
    measurements: Mapped[list[Measurement]] = relationship(back_populates="visit", order_by="Measurement.lesion_id")

    __table_args__ = (UniqueConstraint("patient_id", "visit_date", name="uq_visits_patient_date"),)


class Lesion(Base):
    __tablename__ = "lesions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    patient: Mapped[Patient] = relationship(back_populates="lesions")

    __table_args__ = (UniqueConstraint("patient_id", "label", name="uq_lesions_patient_label"),)


class Measurement(Base):
    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    lesion_id: Mapped[int] = mapped_column(ForeignKey("lesions.id"), index=True)
    longest_mm: Mapped[float | None] = mapped_column(Float)
    second_mm: Mapped[float | None] = mapped_column(Float)
    count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))

    visit: Mapped[Visit] = relationship(back_populates="measurements")
    lesion: Mapped[Lesion] = relationship()

    __table_args__ = (
        UniqueConstraint("visit_id", "lesion_id", name="uq_measurements_visit_lesion"),
        CheckConstraint("status IN ('present', 'ulcerated', 'resolved')", name="ck_measurements_status"),
        CheckConstraint("longest_mm IS NULL OR (longest_mm > 0 AND longest_mm <= 500)",
                        name="ck_measurements_longest"),
        CheckConstraint("second_mm IS NULL OR (second_mm > 0 AND second_mm <= longest_mm)",
                        name="ck_measurements_second"),
        CheckConstraint("count IS NULL OR count >= 1", name="ck_measurements_count"),
    )


class AssessmentRow(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    kb_version: Mapped[str] = mapped_column(String(32))
    kb_hash: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan_change: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the initial migration)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
