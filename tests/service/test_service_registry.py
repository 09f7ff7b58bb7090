"""With a registry configured (--db), the page shows the patient's timeline and lesion chart; without, not."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from svc_helpers import DEV


@pytest.fixture()
def registry(tmp_path):
    from calcinosis.registry.api import init_registry, open_registry
    from calcinosis.registry.inputs import LesionInput, PatientInput, VisitInput

    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    init_registry(url)
    reg = open_registry(url, today=dt.date(2026, 11, 24))
    reg.add_patient(PatientInput("randhawa2018-seed", birth_date=dt.date(2018, 1, 10), sex="female"))
    for day, mm in ((dt.date(2018, 8, 10), 12.0), (dt.date(2018, 9, 10), 9.0), (dt.date(2018, 11, 10), 0.0)):
        status = "resolved" if mm == 0 else "present"
        reg.add_visit("randhawa2018-seed", VisitInput(day, (LesionInput("back#1", mm or None, status=status),)))
    yield reg
    reg.close()


def test_timeline_and_chart_shown_for_a_registered_patient(settings_dev, kb, registry):
    from calcinosis.service.app import create_app

    with TestClient(create_app(settings_dev, kb=kb, registry=registry)) as c:
        seed = (DEV / "randhawa2018-seed.json").read_bytes()
        r = c.post("/upload", files={"file": ("seed.json", seed, "application/json")})
        assert r.status_code == 200
        assert 'id="registry"' in r.text and "Registry follow-up: randhawa2018-seed" in r.text
        assert "<svg" in r.text and "2018-09-10" in r.text
        assert c.get("/patients/randhawa2018-seed").status_code == 200
        assert c.get("/patients/nobody").status_code == 404


def test_no_registry_no_timeline(client_dev):
    seed = (DEV / "randhawa2018-seed.json").read_bytes()
    r = client_dev.post("/upload", files={"file": ("seed.json", seed, "application/json")})
    assert r.status_code == 200 and 'id="registry"' not in r.text
    assert client_dev.get("/patients/randhawa2018-seed").status_code == 404
