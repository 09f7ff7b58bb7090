"""CDS Hooks 2.0 routes: discovery, the patient-view service and its feedback endpoint."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from calcinosis.errors import InputError
from calcinosis.service import cards as cardmod

from calcinosis.service.models import CdsResponse, ErrorBody, FeedbackRequest, HookRequest
from calcinosis.service.prefetch import PrefetchUnavailable, gather
from calcinosis.service.settings import SERVICE_ID

log = logging.getLogger("calcinosis.service")

E400 = {"model": ErrorBody, "description": "Malformed JSON body"}
E401 = {"model": ErrorBody, "description": "Missing or invalid JWT (no detail is given)"}
E404 = {"model": ErrorBody, "description": "Unknown CDS Service id"}
E412 = {"model": ErrorBody, "description": "Prefetch incomplete and the FHIR server cannot be read"}
E422 = {"model": ErrorBody, "description": "Request body or patient data invalid (issues name the field)"}


def issues_body(exc: InputError) -> dict[str, Any]:
    return {"detail": exc.message, "issues": [
        {"level": i.level, "code": i.code, "message": i.message, "where": i.where, "suggestion": i.suggestion}
        for i in exc.issues]}


def base_url(request: Request) -> str:
    pub = request.app.state.settings.public_url
    return pub or str(request.base_url).rstrip("/")


def router() -> APIRouter:
    r = APIRouter(tags=["CDS Hooks"])

    @r.get("/cds-services", summary="CDS Hooks discovery", responses={200: {"description": "Service list"}})
    async def services(request: Request) -> dict[str, Any]:
        return request.app.state.discovery

    @r.post(f"/cds-services/{SERVICE_ID}", summary="patient-view: assess calcinosis cutis",
            response_model=None,
            responses={200: {"model": CdsResponse, "description": "Cards"}, 400: E400, 401: E401,
                       412: E412, 422: E422})
    async def patient_view(body: HookRequest, request: Request) -> JSONResponse:
        t0 = time.perf_counter()
        st = request.app.state
        hi = str(body.hookInstance)
        pid = body.context.patientId
        token = body.fhirAuthorization.access_token if body.fhirAuthorization else None
        try:
            resources, fetched = await gather(
                st.prefetch_templates, pid, body.prefetch, body.fhirServer, token,
                timeout_s=st.settings.fhir_timeout_s, max_pages=st.settings.fhir_max_pages)
        except PrefetchUnavailable as exc:
            log.info("patient-view hookInstance=%s status=412 ms=%.1f", hi, (time.perf_counter() - t0) * 1e3)
            return JSONResponse({"detail": exc.reason}, status_code=412)
        patients = [x for x in resources if x.get("resourceType") == "Patient"]
        if any(p.get("id") not in (None, pid) for p in patients):
            return JSONResponse({"detail": "the Patient resource's id does not match context.patientId"},
                                status_code=422)
        try:
            findings = st.engine.read_resources(resources, f"hookInstance {hi}", pid)
        except InputError as exc:
            log.info("patient-view hookInstance=%s status=422 (patient data refused)", hi)
            return JSONResponse(issues_body(exc), status_code=422)
        assessment = st.engine.assess(findings)
        base = base_url(request)
        view_url = f"{base}/view/{st.views.put(assessment)}"
        out = cardmod.cards(assessment, patient_id=pid, hook_instance=hi, base_url=base, view_url=view_url)
        log.info("patient-view hookInstance=%s status=200 cards=%d fetched=%d ms=%.1f", hi, len(out),
                 len(fetched), (time.perf_counter() - t0) * 1e3)
        return JSONResponse({"cards": out})

    @r.post(f"/cds-services/{SERVICE_ID}/feedback", summary="Feedback on cards (stored without patient data)",
            responses={200: {"description": "Stored"}, 400: E400, 401: E401, 422: E422})
    async def feedback(body: FeedbackRequest, request: Request) -> dict[str, int]:
        from starlette.concurrency import run_in_threadpool

        n = await run_in_threadpool(request.app.state.feedback.add, SERVICE_ID, body.feedback)
        log.info("feedback items=%d", n)
        return {"stored": n}

    @r.post("/cds-services/{service_id}", include_in_schema=True, summary="Unknown services",
            responses={404: E404, 401: E401})
    async def unknown_service(service_id: str) -> JSONResponse:
        return JSONResponse({"detail": "unknown CDS Service id; see GET /cds-services"}, status_code=404)

    @r.post("/cds-services/{service_id}/feedback", include_in_schema=True, summary="Unknown services",
            responses={404: E404, 401: E401})
    async def unknown_feedback(service_id: str) -> JSONResponse:
        return JSONResponse({"detail": "unknown CDS Service id; see GET /cds-services"}, status_code=404)

    return r



__all__ = ["router", "issues_body", "base_url"]
