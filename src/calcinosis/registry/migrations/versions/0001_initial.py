"""Initial registry schema: patients, visits, lesions, measurements, assessments, append-only audit log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_PG_TRIGGERS = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pseudonym", sa.String(64), nullable=False, unique=True),
        sa.Column("birth_date", sa.Date),
        sa.Column("age_days_at_registration", sa.Float),
        sa.Column("registered_on", sa.Date, nullable=False),
        sa.Column("sex", sa.String(8)),
        sa.Column("onset_age_days", sa.Float),
        sa.Column("baseline", sa.JSON),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("sex IS NULL OR sex IN ('female', 'male')", name="ck_patients_sex"),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patients.id"), nullable=False, index=True),
        sa.Column("visit_date", sa.Date, nullable=False),
        sa.Column("age_days", sa.Float),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("labs", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("patient_id", "visit_date", name="uq_visits_patient_date"),
    )
    op.create_table(
        "lesions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patients.id"), nullable=False, index=True),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("site", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("patient_id", "label", name="uq_lesions_patient_label"),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("visits.id"), nullable=False, index=True),
        sa.Column("lesion_id", sa.Integer, sa.ForeignKey("lesions.id"), nullable=False, index=True),
        sa.Column("longest_mm", sa.Float),
        sa.Column("second_mm", sa.Float),
        sa.Column("count", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("visit_id", "lesion_id", name="uq_measurements_visit_lesion"),
        sa.CheckConstraint("status IN ('present', 'ulcerated', 'resolved')", name="ck_measurements_status"),
        sa.CheckConstraint("longest_mm IS NULL OR (longest_mm > 0 AND longest_mm <= 500)",
                           name="ck_measurements_longest"),
        sa.CheckConstraint("second_mm IS NULL OR (second_mm > 0 AND second_mm <= longest_mm)",
                           name="ck_measurements_second"),
        sa.CheckConstraint("count IS NULL OR count >= 1", name="ck_measurements_count"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patients.id"), nullable=False, index=True),
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("visits.id"), index=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("kb_version", sa.String(32), nullable=False),
        sa.Column("kb_hash", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64)),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("plan_change", sa.JSON),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
    )
    triggers = _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for stmt in triggers:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.drop_table("audit_log")
    for t in ("assessments", "measurements", "lesions", "visits", "patients"):
        op.drop_table(t)
