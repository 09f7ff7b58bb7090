"""Helpers for the service tests: real KB, real keys (joserfc), real dev FHIR bundles, local servers.

The FHIR inputs are the project's published dev cases (/work/shared/cases/dev-fhir, see the README there).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Self

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CASES = Path(os.environ.get("CALCINOSIS_CASES", "/work/shared/cases"))
DEV_FHIR = CASES / "dev-fhir"
DEV = CASES / "dev"
AS_OF = "2026-11-24"  # the date the dev FHIR bundles were written "as of" (cases/README.md)

# prefetch key -> resource types it holds (mirrors calcinosis.service.discovery.PREFETCH_QUERIES)
PREFETCH_TYPES = {
    "observations": "Observation", "conditions": "Condition",
    "medicationAdministrations": "MedicationAdministration", "medicationRequests": "MedicationRequest",
    "procedures": "Procedure", "diagnosticReports": "DiagnosticReport", "familyHistory": "FamilyMemberHistory",
}


def load_bundle(case_id: str) -> dict:
    return json.loads((DEV_FHIR / f"{case_id}.json").read_text(encoding="utf-8"))


def bundle_resources(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", [])]


def searchset(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r, "search": {"mode": "match"}}
                      for r in resources]}


def prefetch_from_bundle(bundle: dict) -> tuple[str, dict]:
    """(patient id, prefetch) as an EHR would fill our templates from this chart."""
    res = bundle_resources(bundle)
    patient = next(r for r in res if r["resourceType"] == "Patient")
    pre: dict[str, Any] = {"patient": patient}
    for key, rt in PREFETCH_TYPES.items():
        pre[key] = searchset([r for r in res if r["resourceType"] == rt])
    return patient["id"], pre


def hook_request(patient_id: str, prefetch: dict | None, **extra: Any) -> dict:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/example", "patientId": patient_id}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body



ISS = "https://ehr.example.org"
PUBLIC_URL = "https://cds.example.org"


def make_token(key: Any, alg: str = "RS256", *, aud: str | list | None = None, iss: str = ISS,
               exp_in: int = 300, iat_offset: int = 0, jti: str | None = None, header: dict | None = None,
               claims: dict | None = None) -> str:
    from joserfc import jwt

    now = int(time.time())
    c = {"iss": iss, "sub": "ehr-client", "aud": aud or f"{PUBLIC_URL}/cds-services/calcinosis-cutis",
         "iat": now + iat_offset, "exp": now + exp_in, "jti": jti or str(uuid.uuid4())}
    c.update(claims or {})
    h = {"alg": alg, "typ": "JWT", "kid": key.kid}
    h.update(header or {})
    return jwt.encode(h, c, key, algorithms=[alg])



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """A real uvicorn server on 127.0.0.1 in a thread (stopped by setting should_exit)."""

    def __init__(self, app: Any):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def fhir_server_app(resources: list[dict], token: str, page_size: int = 2, log: list | None = None) -> Any:
    """A tiny FHIR-like server: read Patient/{id}, search {type}?patient=..., paged with Bundle next links.

    It refuses requests without ``Authorization: Bearer <token>`` (401), like a real FHIR server would.
    """
    app = FastAPI()
    calls = log if log is not None else []

    def authorised(request: Request) -> bool:
        calls.append((request.url.path, str(request.url.query), request.headers.get("authorization")))
        return request.headers.get("authorization") == f"Bearer {token}"

    @app.get("/fhir/Patient/{pid}")
    def read_patient(pid: str, request: Request):
        if not authorised(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        for r in resources:
            if r["resourceType"] == "Patient" and r["id"] == pid:
                return r
        return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)

    @app.get("/fhir/{rtype}")
    def search(rtype: str, request: Request, patient: str = "", page: int = 0):
        if not authorised(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)

        def subject_of(r: dict) -> str | None:
            ref = (r.get("subject") or r.get("patient") or {}).get("reference", "")
            return ref.split("/")[-1] if ref else None

        match = [r for r in resources if r["resourceType"] == rtype and subject_of(r) in (patient, None)]
        chunk = match[page * page_size:(page + 1) * page_size]
        b = searchset(chunk)
        b["total"] = len(match)
        if (page + 1) * page_size < len(match):
            q = str(request.url.include_query_params(page=page + 1))
            b["link"] = [{"relation": "next", "url": q}]
        return b

    return app
