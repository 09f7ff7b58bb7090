"""Registry fixtures: a SQLite file per test and one throwaway PostgreSQL 15 cluster per session.

Without PostgreSQL server binaries the PostgreSQL tests are skipped locally and FAIL when CI=true.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest

SEED_CASE = "/work/shared/cases/dev/randhawa2018-seed.json"
TODAY = dt.date(2018, 1, 1)


@pytest.fixture(scope="session")
def pg_cluster():
    from calcinosis.registry.pgtemp import TempCluster, pg_bin_dir

    if pg_bin_dir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries missing under /usr/lib/postgresql/*/bin (CI=true)")
        pytest.skip("PostgreSQL server binaries not installed")
    cluster = TempCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, un-migrated database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def registry(db_url):
    from calcinosis.registry.api import init_registry, open_registry

    init_registry(db_url)
    reg = open_registry(db_url, today=TODAY, actor="test")
    yield reg
    reg.close()


def seed_visits():
    """The founding case's course (Randhawa 2018): noticed at 5 months, growing to 7, smaller at 8, gone at
    10 months. The letter gives no sizes or dates: the birth date and the sizes below are illustrative."""
    from calcinosis.registry.inputs import LesionInput as L
    from calcinosis.registry.inputs import VisitInput as V

    d = dt.date.fromisoformat
    return [
        V(d("2017-06-15"), (L("back#1", 6, 5), L("back#2", 5, 4), L("left thigh", 5, 4))),
        V(d("2017-08-15"), (L("back#1", 12, 9), L("back#2", 10, 8), L("left thigh", 9, 7))),
        V(d("2017-09-15"), (L("back#1", 7, 5), L("back#2", 6, 4), L("left thigh", 5, 4))),
        V(d("2017-11-15"), (L("back#1", status="resolved"), L("back#2", status="resolved"),
                            L("left thigh", status="resolved"))),
    ]


def add_seed_patient(reg, pid="seed-01"):
    import json

    from calcinosis.registry.inputs import PatientInput

    with open(SEED_CASE, encoding="utf-8") as fh:
        case = json.load(fh)
    reg.add_patient(PatientInput(pid, birth_date=dt.date(2017, 1, 15), baseline=case))
    return pid
