"""Several worker processes (``calcinosis serve --workers N``): the stores they must share, and a real
2-worker server in a subprocess whose card links and JWT replay check hold whichever worker answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from svc_helpers import ISS, free_port, hook_request, load_bundle, make_token, prefetch_from_bundle

URL = "/cds-services/calcinosis-cutis"


def test_shared_view_store_is_seen_by_another_process_connection_and_expires(kb, tmp_path):
    from calcinosis.core.assess import assess
    from calcinosis.io.fhir_in import read_bundle
    from calcinosis.service.shared import SharedViewStore

    a = assess(read_bundle(load_bundle("randhawa2018-seed"), "seed", as_of="2026-11-24", kb=kb), kb)
    writer, reader = SharedViewStore(tmp_path, ttl_s=60), SharedViewStore(tmp_path, ttl_s=60)
    token = writer.put(a)
    got = reader.get(token)
    assert got == a and got is not a  # the same assessment, read back through the file
    assert reader.get(token + "x") is None
    short = SharedViewStore(tmp_path, ttl_s=0)
    t2 = short.put(a)
    time.sleep(0.01)
    assert reader.get(t2) is None  # expired


def test_shared_replay_store_refuses_a_jti_seen_by_another_worker(tmp_path):
    from calcinosis.service.shared import SharedReplayStore

    one, two = SharedReplayStore(tmp_path), SharedReplayStore(tmp_path)
    now = time.time()
    assert one.check_and_add(ISS, "jti-1", now + 60, now) is True
    assert two.check_and_add(ISS, "jti-1", now + 60, now) is False  # replayed on the other worker
    assert two.check_and_add("https://other.example", "jti-1", now + 60, now) is True  # per issuer
    assert one.check_and_add(ISS, "jti-old", now - 1, now - 100) is True
    assert two.check_and_add(ISS, "jti-old", now + 60, now) is True  # the first one had expired


def test_state_dir_is_private_and_in_memory():
    from calcinosis.service.shared import in_memory_fs, make_state_dir, remove_state_dir

    d = make_state_dir()
    try:
        assert d.stat().st_mode & 0o777 == 0o700
        if os.path.isdir("/dev/shm"):
            assert in_memory_fs(d)
    finally:
        remove_state_dir(d)
    assert not d.exists()


def test_workers_setting_is_validated(tmp_path):
    from calcinosis.errors import InputError
    from calcinosis.service.settings import load_settings

    good = tmp_path / "ok.json"
    good.write_text(json.dumps({"workers": 2, "fhir_validate": True}))
    s = load_settings(good)
    assert s.workers == 2 and s.fhir_validate is True
    for bad in ({"workers": 0}, {"workers": "two"}, {"fhir_validate": "yes"}):
        p = tmp_path / "bad.json"
        p.write_text(json.dumps(bad))
        with pytest.raises(InputError) as ei:
            load_settings(p)
        assert str(p) in ei.value.issues[0].where and next(iter(bad)) in ei.value.issues[0].where


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, keys):
    """A real ``calcinosis serve --workers 2`` with JWT verification, in a subprocess."""
    httpx = pytest.importorskip("httpx")
    tmp = tmp_path_factory.mktemp("workers")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cfg = tmp / "svc.json"
    cfg.write_text(json.dumps({"public_url": base, "issuers": [{"iss": ISS, "jwks": keys["jwks"]}]}))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "calcinosis", "serve", "--config", str(cfg), "--port", str(port),
                             "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    yield base, proc
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _workers_pids(proc: subprocess.Popen) -> set[int]:
    kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    return {int(x) for x in kids.read_text().split()} if kids.exists() else set()


def test_two_workers_share_card_links_and_the_replay_store(two_workers, keys):
    import httpx

    base, proc = two_workers
    assert len(_workers_pids(proc)) >= 2  # uvicorn's supervisor and its worker processes
    pid, pre = prefetch_from_bundle(load_bundle("randhawa2018-seed"))
    links = []
    with httpx.Client(base_url=base, timeout=30) as c:
        for _ in range(6):  # new connections: the kernel spreads them over both workers
            tok = make_token(keys["ec"], "ES256", aud=f"{base}{URL}", jti=str(uuid.uuid4()))
            with httpx.Client(base_url=base, timeout=30) as fresh:
                r = fresh.post(URL, json=hook_request(pid, pre), headers={"Authorization": f"Bearer {tok}"})
            assert r.status_code == 200, r.text
            links.append(r.json()["cards"][0]["links"][0]["url"])
        for url in links:  # each link opens, whichever worker made it and whichever answers
            for _ in range(3):
                with httpx.Client(timeout=30) as fresh:
                    page = fresh.get(url)
                assert page.status_code == 200 and "tumoral" in page.text.lower()
        # a token replayed on new connections is refused, whichever worker sees it second
        tok = make_token(keys["ec"], "ES256", aud=f"{base}{URL}")
        statuses = []
        for _ in range(4):
            with httpx.Client(base_url=base, timeout=30) as fresh:
                statuses.append(fresh.post(URL, json=hook_request(pid, pre),
                                           headers={"Authorization": f"Bearer {tok}"}).status_code)
        assert statuses == [200, 401, 401, 401]
        assert c.get("/healthz").status_code == 200


def test_serve_refuses_a_bad_workers_value_without_traceback(tmp_path):
    cfg = tmp_path / "svc.json"
    cfg.write_text(json.dumps({"workers": 0}))
    r = subprocess.run([sys.executable, "-m", "calcinosis", "serve", "--dev", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "workers" in r.stderr and "Traceback" not in r.stderr
