"""The registry on SQLite and PostgreSQL: migrations, the founding case, bad input, audit log, red flags, logs."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from conftest import TODAY, add_seed_patient, seed_visits

from calcinosis.errors import InputError
from calcinosis.registry.inputs import LesionInput as L
from calcinosis.registry.inputs import PatientInput
from calcinosis.registry.inputs import VisitInput as V


def counts(reg):
    from sqlalchemy import text

    with reg.engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("patients", "visits", "lesions", "measurements", "assessments", "audit_log")}


def test_unmigrated_database_is_refused(db_url):
    from calcinosis.registry.api import open_registry
    from calcinosis.registry.errors import RegistryNotReadyError

    with pytest.raises(RegistryNotReadyError) as ei:
        open_registry(db_url)
    assert "not initialised" in str(ei.value) and "registry init" in ei.value.hint
    assert ei.value.exit_code == 2


def test_models_match_the_migration(registry):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from calcinosis.registry.models import Base

    with registry.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_founding_case_reads_resolved(registry):
    pid = add_seed_patient(registry)
    plans = [registry.add_visit(pid, v) for v in seed_visits()]
    assert plans[0]["plan"]["strategy"] == "watchful_waiting"  # the seed's management
    tl = registry.patient_timeline(pid)
    assert [v["trajectory"] for v in tl["visits"]] == ["stable", "growing", "regressing", "resolved"]
    assert [round(v["age_months"]) for v in tl["visits"]] == [5, 7, 8, 10]
    assert tl["trajectory"]["current"] == "resolved"
    assert tl["trajectory"]["resolved_date"] == "2017-11-15"
    assert tl["trajectory"]["days_to_regression"] == (dt.date(2017, 9, 15) - dt.date(2017, 6, 15)).days
    for le in tl["lesions"]:
        assert le["trajectory"] == "resolved" and le["resolved_date"] == "2017-11-15"
        assert le["regression_date"] == "2017-09-15"
    assert tl["window"]["end_age_months"] == pytest.approx(10.0)  # onset 5 months + the seed's 5-month window
    assert tl["current_plan"]["strategy"] == "watchful_waiting"
    assert not any(e["kind"] == "red_flag" for e in tl["events"])
    assert any(e["kind"] == "resolved" and e["date"] == "2017-11-15" for e in tl["events"])
    svg = registry.chart_svg(pid)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert registry.chart_png(pid)[:8] == b"\x89PNG\r\n\x1a\n"
    assert registry.integrity_problems() == []


@pytest.mark.parametrize("visit, field", [
    (V(dt.date(2017, 7, 1), (L("back", -3.0, None),)), "lesions[0].longest_mm"),
    (V(dt.date(2017, 7, 1), (L("back", 4000.0, 10.0),)), "lesions[0].longest_mm"),
    (V(dt.date(2017, 7, 1), (L("back", 10.0, 12.0),)), "lesions[0].second_mm"),
    (V(dt.date(2016, 12, 1), (L("back", 10.0, 8.0),)), "date"),  # before birth
    (V(dt.date(2018, 6, 1), (L("back", 10.0, 8.0),)), "date"),  # after the injected today
    (V(dt.date(2017, 7, 1), (L("nowhere", status="resolved"),)), "lesions[0].label"),  # unknown lesion
    (V(dt.date(2017, 7, 1), (L("back", 10.0, 8.0),), labs=({"analyte": "calcium", "value": -2.4,
                                                             "unit": "mmol/L"},)), "labs[0].value"),
])
def test_bad_visit_is_refused_and_nothing_written(registry, visit, field):
    pid = add_seed_patient(registry)
    before = counts(registry)
    with pytest.raises(InputError) as ei:
        registry.add_visit(pid, visit)
    assert ei.value.exit_code == 2
    assert any(i.where.endswith(field) for i in ei.value.issues), [i.where for i in ei.value.issues]
    assert counts(registry) == before


def test_unknown_patient_is_refused(registry):
    before = counts(registry)
    with pytest.raises(InputError) as ei:
        registry.add_visit("nobody", seed_visits()[0])
    assert ei.value.code == "UNKNOWN_PATIENT" and "patient id" in str(ei.value)
    assert counts(registry) == before


def test_patient_checks(registry):
    with pytest.raises(InputError) as ei:
        registry.add_patient(PatientInput("Jane Doe 1970-01-01"))
    assert "patient id" in str(ei.value)
    with pytest.raises(InputError, match="future"):
        registry.add_patient(PatientInput("p2", birth_date=TODAY + dt.timedelta(days=1)))
    assert counts(registry)["patients"] == 0


def test_audit_log_is_append_only(registry):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    pid = add_seed_patient(registry)
    registry.add_visit(pid, seed_visits()[0], reassess="never")
    n = counts(registry)["audit_log"]
    assert n == 1 + 1 + 3 + 3  # patient, visit, 3 lesions, 3 measurements
    for stmt in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), registry.engine.begin() as c:
            c.execute(text(stmt))
    assert counts(registry)["audit_log"] == n


def test_ulceration_ends_watchful_waiting(registry):
    pid = add_seed_patient(registry)
    visits = seed_visits()
    registry.add_visit(pid, visits[0])
    out = registry.add_visit(pid, V(dt.date(2017, 7, 10), (L("back#1", 8, 6, status="ulcerated"),),
                                    {"painful": True}))
    plan = out["plan"]
    assert plan["previous_strategy"] == "watchful_waiting"
    assert plan["watchful_waiting_ended"] is True and plan["changed"] is True
    assert {f["id"] for f in plan["red_flags"]} == {"ulceration", "pain"}
    assert "ulceration" in plan["why"]
    tl = registry.patient_timeline(pid)
    assert tl["current_plan"]["watchful_waiting_ended"] is True
    assert len(tl["assessments"]) == 2  # the re-assessment was stored
    assert any(e["kind"] == "plan_change" for e in tl["events"])


def test_growth_after_window_is_a_red_flag(registry):
    pid = add_seed_patient(registry)
    registry.add_visit(pid, seed_visits()[0])  # 5 months; window ends at 10 months
    out = registry.add_visit(pid, V(dt.date(2017, 12, 1), (L("back#1", 14, 10),)))  # ~10.5 months, +8 mm
    assert out["trajectory"] == "growing"
    assert [f["id"] for f in out["red_flags"]] == ["growth_after_window"]
    assert out["plan"]["watchful_waiting_ended"] is True


def test_abnormal_lab_is_a_red_flag(registry):
    pid = add_seed_patient(registry)
    registry.add_visit(pid, seed_visits()[0])
    out = registry.add_visit(pid, V(dt.date(2017, 7, 1), (L("back#1", 6, 5),),
                                    labs=({"analyte": "calcium", "value": 3.4, "unit": "mmol/L"},)))
    assert "abnormal_labs" in [f["id"] for f in out["red_flags"]]


def test_no_identifiers_in_logs(registry, caplog):
    caplog.set_level(logging.DEBUG)
    pid = add_seed_patient(registry, "zq-pseudo-7731")
    for v in seed_visits():
        registry.add_visit(pid, v)
    registry.patient_timeline(pid)
    assert caplog.records  # the writes did log
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "zq-pseudo-7731" not in text and "2017-01-15" not in text
