"""Faults: eight processes writing at once, and a writer killed with SIGKILL inside a transaction."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import registry_workers as W
from conftest import TODAY

from calcinosis.registry.inputs import LesionInput, PatientInput, VisitInput

HERE = Path(__file__).parent


def _init(url, pids):
    from calcinosis.registry.api import init_registry, open_registry

    init_registry(url)
    with open_registry(url, today=TODAY, actor="test") as reg:
        for pid in pids:
            reg.add_patient(PatientInput(pid, birth_date=dt.date(1999, 1, 1)))


def test_eight_processes_500_visits_each(db_url):
    _init(db_url, [f"conc-{p:02d}" for p in range(W.PATIENTS)])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        results = pool.starmap(W.write_many, [(db_url, k) for k in range(8)], chunksize=1)
    ids = [i for r in results for i in r]
    assert len(ids) == 8 * 500 and len(set(ids)) == 8 * 500
    from sqlalchemy import text

    from calcinosis.registry.api import open_registry

    with open_registry(db_url) as reg, reg.engine.connect() as c:
        rows = c.execute(text("SELECT p.pseudonym, v.visit_date FROM visits v JOIN patients p ON p.id = v.patient_id"))
        got = [(pid, d if isinstance(d, dt.date) else dt.date.fromisoformat(d)) for pid, d in rows]
        assert len(got) == 4000 and len(set(got)) == 4000  # every visit stored, none duplicated
        expected = {(f"conc-{p:02d}", W.visit_date(k, i)) for k in range(8) for i in range(W.PER_PATIENT)
                    for p in range(W.PATIENTS)}
        assert set(got) == expected
        assert c.execute(text("SELECT count(DISTINCT uid) FROM visits")).scalar_one() == 4000
        assert c.execute(text("SELECT count(*) FROM measurements")).scalar_one() == 4000
        assert c.execute(text("SELECT count(*) FROM lesions")).scalar_one() == W.PATIENTS
    with open_registry(db_url) as reg:
        assert reg.integrity_problems() == []


@pytest.mark.parametrize("hold", [True, False], ids=["inside-transaction", "anywhere"])
def test_sigkill_loses_no_committed_visit(db_url, hold):
    _init(db_url, ["kill-01"])
    proc = subprocess.Popen([sys.executable, str(HERE / "registry_workers.py"), db_url, "hold" if hold else "run"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(HERE)})
    committed = []
    try:
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            if line.startswith("COMMITTED"):
                committed.append(dt.date.fromisoformat(line.split()[1]))
            if (hold and line.startswith("IN_TX")) or (not hold and len(committed) >= 25):
                break
            assert time.monotonic() < deadline, "writer too slow"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(committed) >= 5
    from sqlalchemy import text

    from calcinosis.registry.api import open_registry

    with open_registry(db_url, today=dt.date(2030, 1, 1)) as reg:
        assert reg.integrity_problems() == []
        with reg.engine.connect() as c:
            stored = {d if isinstance(d, dt.date) else dt.date.fromisoformat(d)
                      for (d,) in c.execute(text("SELECT visit_date FROM visits"))}
        assert set(committed) <= stored  # no committed visit lost
        if hold:
            assert stored == set(committed)  # the transaction in flight left nothing behind
        out = reg.add_visit("kill-01", VisitInput(dt.date(2020, 1, 1), (LesionInput("back", 6.0, 4.0),)),
                            reassess="never")  # the next write works
        assert out["visit_id"]
        assert reg.integrity_problems() == []
