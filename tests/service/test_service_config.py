"""Discovery document, settings file, feedback storage and the ``calcinosis serve`` command."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid

import pytest

from calcinosis.errors import InputError
from calcinosis.service.settings import load_settings

FEEDBACK = "/cds-services/calcinosis-cutis/feedback"


def test_discovery_lists_one_patient_view_service_with_kb_loincs(client_dev, kb):
    from calcinosis.service.discovery import kb_loincs

    doc = client_dev.get("/cds-services").json()
    assert len(doc["services"]) == 1
    svc = doc["services"][0]
    assert svc["hook"] == "patient-view" and svc["id"] == "calcinosis-cutis"
    assert svc["title"] and svc["description"] and svc["usageRequirements"]
    pre = svc["prefetch"]
    assert pre["patient"] == "Patient/{{context.patientId}}"
    for key in ("observations", "conditions", "medicationAdministrations", "medicationRequests", "procedures",
                "diagnosticReports", "familyHistory"):
        assert "patient={{context.patientId}}" in pre[key], key
    codes = kb_loincs(kb)
    assert codes, "the knowledge base names no LOINC codes"
    for code in codes:
        assert f"http://loinc.org|{code}" in pre["observations"]


def test_kb_loincs_reads_list_and_mapping_forms():
    from calcinosis.service.discovery import kb_loincs

    class KB:
        def __init__(self, a):
            self.a = a

        def get(self, name, default=None):
            return self.a if name == "analytes" else default

    assert kb_loincs(KB([{"loinc": ["2", "1"]}, {"loinc": "1"}, {"id": "x"}])) == ["1", "2"]
    assert kb_loincs(KB({"ca": {"loinc": ["17861-6"]}, "p": {"loinc": []}})) == ["17861-6"]


def test_feedback_stored_and_read_back_without_comment(client_dev):
    card, sugg = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"feedback": [
        {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": sugg}],
         "outcomeTimestamp": "2026-11-24T10:00:00Z"},
        {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-24T10:05:00+01:00",
         "overrideReason": {"reason": {"code": "already-done", "system": "https://x.example/cs",
                                       "display": "Work-up already done or ordered"},
                            "userComment": "Baby Jane Doe, MRN 123"}}]}
    r = client_dev.post(FEEDBACK, json=body)
    assert r.status_code == 200 and r.json() == {"stored": 2}
    rows = client_dev.app.state.feedback.list(card)
    assert [x["outcome"] for x in rows] == ["accepted", "overridden"]
    assert rows[0]["accepted_suggestions"] == [sugg]
    assert rows[1]["override_code"] == "already-done"
    assert rows[1]["outcome_timestamp"].startswith("2026-11-24T10:05:00")
    raw = sqlite3.connect(client_dev.app.state.feedback.path).execute("select * from feedback").fetchall()
    assert "MRN" not in json.dumps(raw)  # the free-text comment is never stored


@pytest.mark.parametrize("body", [
    {},
    {"feedback": []},
    {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "2026-11-24T10:00:00Z"}]},
    {"feedback": [{"card": "x", "outcome": "accepted"}]},
])
def test_bad_feedback_is_422(client_dev, body):
    r = client_dev.post(FEEDBACK, json=body)
    assert r.status_code == 422
    assert r.json()["issues"]


def test_settings_file_every_problem_named(tmp_path):
    p = tmp_path / "svc.json"
    p.write_text(json.dumps({"issuers": [{"iss": "https://ehr"}, {"jwks": {}}], "cors_origins": 5,
                             "public_url": "ftp://x", "bogus": 1}))
    with pytest.raises(InputError) as ei:
        load_settings(p)
    where = [i.where for i in ei.value.issues]
    assert f"{p}: issuers[0]" in where and f"{p}: issuers[1]" in where
    assert f"{p}: cors_origins" in where and f"{p}: public_url" in where and f"{p}: bogus" in where


def test_settings_yaml_with_jwks_file(tmp_path, keys):
    (tmp_path / "ehr.jwks").write_text(json.dumps(keys["jwks"]))
    p = tmp_path / "svc.yaml"
    p.write_text("public_url: https://cds.example.org/\nissuers:\n  - iss: https://ehr.example.org\n"
                 "    jwks_file: ehr.jwks\ncors_origins: [https://ehr.example.org]\n")
    s = load_settings(p, dev=None, db_url="sqlite:///x.db")
    assert s.public_url == "https://cds.example.org" and not s.dev and s.db_url == "sqlite:///x.db"
    assert s.issuers[0].jwks_file == str(tmp_path / "ehr.jwks")
    assert s.cors_origins == ("https://ehr.example.org",)


def test_cors_off_by_default_and_configurable(kb, tmp_path, client_dev):
    from fastapi.testclient import TestClient

    from calcinosis.service.app import create_app
    from calcinosis.service.settings import Settings

    h = {"Origin": "https://ehr.example.org"}
    assert "access-control-allow-origin" not in client_dev.get("/cds-services", headers=h).headers
    s = Settings(dev=True, cors_origins=("https://ehr.example.org",), feedback_db=str(tmp_path / "f.db"))
    with TestClient(create_app(s, kb=kb)) as c:
        r = c.get("/cds-services", headers=h)
        assert r.headers["access-control-allow-origin"] == "https://ehr.example.org"


def test_serve_help_has_example():
    from typer.testing import CliRunner

    from calcinosis.cli.main import app

    r = CliRunner().invoke(app, ["serve", "--help"])
    assert r.exit_code == 0
    assert "Example" in r.output and "calcinosis serve --dev" in r.output


def test_serve_bad_config_exit_2(tmp_path):
    from calcinosis.cli.main import run

    p = tmp_path / "bad.json"
    p.write_text("{not json")
    assert run(["serve", "--config", str(p)]) == 2


def test_serve_dev_starts_uvicorn_and_warns_loudly(tmp_path):
    """The real command in a subprocess: --dev says so on stderr, then serves discovery on the port."""
    import os
    import signal
    import time

    import httpx
    from svc_helpers import free_port

    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", "from calcinosis.cli.main import run; run()", "serve", "--dev",
                             "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert "DEVELOPMENT MODE: JWT verification is OFF" in err
    assert (tmp_path / "calcinosis" / "feedback.sqlite3").exists()
