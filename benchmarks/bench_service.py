"""Benchmark: CDS Hooks patient-view vs a bare Starlette JSON endpoint, side by side in one run.

Every server runs under uvicorn in a subprocess with the same settings (log level warning, no access log) on
127.0.0.1, with 1 or 2 worker processes; each patient-view row is compared with the bare endpoint run with the
same number of workers. 32 concurrent httpx async clients (one keep-alive connection each) send a bounded
number of requests. The patient-view body carries a realistic prefetch of ~40 FHIR resources (a published
dialysis patient's chart, /work/shared/cases/dev-fhir/timmis2010-calciphylaxis-17y.json, plus serial
laboratory results). "A new chart each request": every resource id and the patient id differ from one request
to the next, so nothing is reused. Other rows: full FHIR R4 model validation on (``fhir_validate: true``); the
same chart repeated (the result cache answers); the same with JWT verification (ES256 tokens signed before the
clock starts).

    /work/venv/bin/python benchmarks/bench_service.py [--requests 1500] [--concurrency 32]

Prints a Markdown table (throughput, p50, p99, ratio to bare). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

CASE = Path(os.environ.get("CALCINOSIS_CASES", "/work/shared/cases")) / "dev-fhir" / \
    "timmis2010-calciphylaxis-17y.json"
ISS = "https://ehr.bench.example"

BARE = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
BODY = {"cards": [{"summary": "fixed", "indicator": "info", "source": {"label": "bench"}}]}
async def hook(request):
    await request.body()
    return JSONResponse(BODY)
app = Starlette(routes=[Route("/cds-services/calcinosis-cutis", hook, methods=["POST"]),
                        Route("/cds-services", lambda r: JSONResponse({"services": []}))])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_prefetch() -> tuple[str, dict]:
    """The chart as prefetch, with monthly calcium/phosphate/PTH results added to reach ~40 resources."""
    bundle = json.loads(CASE.read_text(encoding="utf-8"))
    res = [e["resource"] for e in bundle["entry"]]
    patient = next(r for r in res if r["resourceType"] == "Patient")
    obs = [r for r in res if r["resourceType"] == "Observation" and r.get("valueQuantity")]
    extra = []
    for month in range(1, 40):
        if len(res) + len(extra) >= 40:
            break
        o = copy.deepcopy(obs[month % len(obs)])
        o["id"] = f"{o['id']}-m{month}"
        day = dt.date(2026, 11, 24) - dt.timedelta(days=30 * month)
        o["effectiveDateTime"] = day.isoformat()
        extra.append(o)
    res = res + extra

    def ss(rt: str) -> dict:
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r} for r in res if r["resourceType"] == rt]}

    pre = {"patient": patient, "observations": ss("Observation"), "conditions": ss("Condition"),
           "medicationAdministrations": ss("MedicationAdministration"), "medicationRequests": ss("MedicationRequest"),
           "procedures": ss("Procedure"), "diagnosticReports": ss("DiagnosticReport"),
           "familyHistory": ss("FamilyMemberHistory")}
    return patient["id"], pre, len(res)


CHART_MARK = b"zqmarkqz"  # replaced by c0000001, c0000002, ... in the "new chart" runs
BIRTH_MARK = b"zqbirthqz"  # the patient's birthDate: a different day for every new chart


def body_template(pid: str, pre: dict) -> tuple[bytes, bytes]:
    """The request body with a hookInstance marker; every resource id, the patient id and every free text
    (CodeableConcept and note texts, report conclusions, string values) carry CHART_MARK, which the "new chart"
    runs replace per request: every request is another patient's chart, with texts never seen before (so the
    knowledge base's memo of text matches is no help); the birthDate carries BIRTH_MARK, replaced by another
    day for every new chart (so the memo of reference-interval choices by age is no help either)."""
    mark = CHART_MARK.decode()

    def mark_texts(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "conclusion", "valueString") and isinstance(v, str):
                    node[k] = f"{v} ({mark})"
                else:
                    mark_texts(v)
        elif isinstance(node, list):
            for v in node:
                mark_texts(v)

    pre = copy.deepcopy(pre)
    mark_texts(pre)
    pre["patient"]["birthDate"] = BIRTH_MARK.decode()
    text = json.dumps(pre)
    ids = {pid} | {e["resource"]["id"] for v in pre.values() if isinstance(v, dict) and "entry" in v
                   for e in v["entry"]}
    for rid in sorted(ids, key=len, reverse=True):
        text = text.replace(f'"{rid}"', f'"{rid}-{mark}"').replace(f'/{rid}"', f'/{rid}-{mark}"')
    pre = json.loads(text)
    marker = "00000000-0000-4000-8000-000000000000"
    raw = json.dumps({"hook": "patient-view", "hookInstance": marker,
                      "context": {"userId": "Practitioner/bench", "patientId": f"{pid}-{mark}"},
                      "prefetch": pre}).encode()
    return raw, marker.encode()


def start(cmd: list[str], port: int, env: dict) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def load(url: str, template: bytes, marker: bytes, n: int, conc: int, tokens: list[str] | None,
               warmup: int, cold: bool) -> dict:
    """``conc`` clients, each its own httpx.AsyncClient and keep-alive connection (one shared pool of 32
    connections costs httpx itself more CPU than the bare server)."""
    import httpx

    lat: list[float] = []
    statuses: dict[int, int] = {}
    bodies = []
    for i in range(n + warmup):
        b = template.replace(marker, str(uuid.uuid4()).encode())
        if cold:  # another patient: new ids, new texts, another age (so no memo helps)
            born = dt.date(2009, 11, 24) - dt.timedelta(days=i % 1000)
            b = b.replace(CHART_MARK, f"c{i:07d}".encode()).replace(BIRTH_MARK, born.isoformat().encode())
        else:
            b = b.replace(BIRTH_MARK, b"2009-11-24")
        bodies.append(b)
    clients = [httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) for _ in range(conc)]
    try:
        counter = iter(range(n + warmup))

        async def worker(client: httpx.AsyncClient, record: bool, stop_at: int) -> None:
            for i in counter:
                if i >= stop_at:
                    return
                headers = {"Content-Type": "application/json"}
                if tokens:
                    headers["Authorization"] = f"Bearer {tokens[i]}"
                t0 = time.perf_counter()
                r = await client.post(url, content=bodies[i], headers=headers)
                dt_ = time.perf_counter() - t0
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if record:
                    lat.append(dt_)

        await asyncio.gather(*(worker(c, False, warmup) for c in clients))  # warm-up, not timed
        counter = iter(range(warmup, n + warmup))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, True, n + warmup) for c in clients))
        wall = time.perf_counter() - t0
    finally:
        for c in clients:
            await c.aclose()
    lat.sort()
    return {"n": len(lat), "rps": len(lat) / wall, "p50_ms": statistics.median(lat) * 1e3,
            "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1e3, "statuses": statuses}


def make_tokens(key, n: int, aud: str) -> list[str]:
    from joserfc import jwt

    now = int(time.time())
    return [jwt.encode({"alg": "ES256", "kid": key.kid}, {"iss": ISS, "sub": "bench", "aud": aud, "iat": now,
                                                           "exp": now + 600, "jti": str(uuid.uuid4())}, key)
            for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--only", nargs="*", help="run only the rows whose label contains one of these words "
                                              "(and the bare rows)")
    args = ap.parse_args()
    from joserfc.jwk import ECKey, KeySet

    pid, pre, n_res = build_prefetch()
    template, marker = body_template(pid, pre)
    tmp = Path(tempfile.mkdtemp(prefix="calcinosis-bench-"))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp)}
    key = ECKey.generate_key("P-256", parameters={"kid": "bench"}, private=True)
    (tmp / "bench_bare.py").write_text(BARE)
    rows = []
    # (label, server, workers, settings file content or None, new chart each request?, JWT?)
    runs = [("bare Starlette (fixed JSON)", "bare", 1, None, False, False),
            ("patient-view, a new chart each request (--dev)", "cds", 1, None, True, False),
            ("patient-view, a new chart each request, full FHIR R4 validation (--dev)", "cds", 1,
             {"fhir_validate": True}, True, False),
            ("bare Starlette (fixed JSON), 2 workers", "bare", 2, None, False, False),
            ("patient-view, a new chart each request (--dev), 2 workers", "cds", 2, None, True, False),
            ("patient-view, a new chart each request, full FHIR R4 validation (--dev), 2 workers", "cds", 2,
             {"fhir_validate": True}, True, False),
            ("patient-view, repeated chart (--dev, result reused), 2 workers", "cds", 2, None, False, False),
            ("patient-view, a new chart each request + JWT (ES256), 2 workers", "cds", 2, {}, True, True)]
    if args.only:
        runs = [r for r in runs if r[1] == "bare" or any(w in r[0] for w in args.only)]
    for label, server, workers, conf, cold, jwt in runs:
        port = free_port()
        tokens = None
        if server == "bare":
            cmd = [sys.executable, "-m", "uvicorn", "bench_bare:app", "--app-dir", str(tmp), "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
        else:
            cmd = [sys.executable, "-c", "from calcinosis.cli.main import run; run()", "serve", "--port", str(port),
                   "--workers", str(workers)]
            conf = dict(conf or {})
            if jwt:
                conf.update({"public_url": f"http://127.0.0.1:{port}", "issuers": [
                    {"iss": ISS, "jwks": KeySet([key]).as_dict(private=False)}]})
                tokens = make_tokens(key, args.requests + args.warmup,
                                     f"http://127.0.0.1:{port}/cds-services/calcinosis-cutis")
            else:
                cmd.append("--dev")
            if conf:
                cfg = tmp / f"svc-{port}.json"
                cfg.write_text(json.dumps(conf))
                cmd += ["--config", str(cfg)]
        proc = start(cmd, port, env)
        try:
            res = asyncio.run(load(f"http://127.0.0.1:{port}/cds-services/calcinosis-cutis", template, marker,
                                   args.requests, args.concurrency, tokens, args.warmup, cold))
        finally:
            stop(proc)
        rows.append((label, server, workers, res))
    bare = {w: r["rps"] for _, srv, w, r in rows if srv == "bare"}
    print(f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"prefetch: {n_res} FHIR resources, {len(template) / 1024:.1f} KiB body; {args.requests} timed requests "
          f"after {args.warmup} warm-up, {args.concurrency} concurrent clients, loopback\n")
    print("| server | workers | requests/s | p50 ms | p99 ms | throughput vs bare (same workers) | statuses |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, _srv, w, r in rows:
        ratio = r["rps"] / bare[w] if w in bare else float("nan")
        print(f"| {label} | {w} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {ratio:.2f} | "
              f"{r['statuses']} |")


if __name__ == "__main__":
    main()
