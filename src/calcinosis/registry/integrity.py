"""Database consistency checks: SQLite ``PRAGMA integrity_check`` plus cross-table queries on any backend."""

from __future__ import annotations

from typing import Any

# Each query counts rows that must not exist.
CONSISTENCY_QUERIES = {
    "measurements without their visit":
        "SELECT count(*) FROM measurements m LEFT JOIN visits v ON v.id = m.visit_id WHERE v.id IS NULL",
    "measurements without their lesion":
        "SELECT count(*) FROM measurements m LEFT JOIN lesions l ON l.id = m.lesion_id WHERE l.id IS NULL",
    "visits without their patient":
        "SELECT count(*) FROM visits v LEFT JOIN patients p ON p.id = v.patient_id WHERE p.id IS NULL",
    "visits without an audit entry":
        "SELECT count(*) FROM visits v LEFT JOIN audit_log a ON a.entity = 'visit' AND a.entity_id = v.id "
        "WHERE a.id IS NULL",
    "duplicated visits (patient, date)":
        "SELECT count(*) FROM (SELECT patient_id, visit_date FROM visits GROUP BY patient_id, visit_date "
        "HAVING count(*) > 1) d",
}


def integrity_problems(engine: Any) -> list[str]:
    from sqlalchemy import text

    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
            if rows != ["ok"]:
                problems.extend(f"integrity_check: {r}" for r in rows)
            fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            problems.extend(f"foreign_key_check: {tuple(r)}" for r in fk)
        for what, sql in CONSISTENCY_QUERIES.items():
            n = conn.execute(text(sql)).scalar_one()
            if n:
                problems.append(f"{what}: {n}")
    return problems
