"""The clinician web page (form, upload, full assessment view) and the JSON API (/assess, /assess/fhir).

Every page states the intended use. Bad input is shown on the page with the field named (4xx), never a 500.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from calcinosis import INTENDED_USE, __version__
from calcinosis.errors import InputError, Issue
from calcinosis.service.form import LAB_ROWS, REPORTED, SRC, case_from_form
from calcinosis.service.hooks import E400, E422, issues_body

MAX_UPLOAD = 5 * 1024 * 1024
log = logging.getLogger("calcinosis.service")


@lru_cache(maxsize=1)
def _env() -> Any:
    from jinja2 import Environment, FunctionLoader, select_autoescape

    def load(name: str) -> str:
        return (resources.files("calcinosis.service") / "static" / name).read_text(encoding="utf-8")

    return Environment(loader=FunctionLoader(load), autoescape=select_autoescape(default=True))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""

    def __getattr__(self, key: str) -> str:
        return self[key]


def _analyte_names(kb: Any) -> list[str]:
    a = kb.get("analytes") or []
    entries = list(a.values()) if isinstance(a, dict) else list(a)
    names = {e.get("label") or e.get("name") for e in entries if isinstance(e, dict)}
    return sorted(n for n in names if isinstance(n, str))


def render(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    kb = request.app.state.engine.kb
    base: dict[str, Any] = {
        "title": "Calcinosis cutis assessment", "intended_use": INTENDED_USE, "version": __version__,
        "kb": {"version": kb.version, "hash": kb.content_hash}, "f": _Blank(), "lab_rows": LAB_ROWS,
        "reported": REPORTED, "analytes": _analyte_names(kb), "show_form": False, "errors": None}
    base.update(ctx)
    if isinstance(base["f"], dict) and not isinstance(base["f"], _Blank):
        base["f"] = _Blank(base["f"])
    return HTMLResponse(_env().get_template("page.html").render(**base), status_code=status)


def _error_list(exc: InputError) -> list[Issue]:
    return list(exc.issues)


def _registry_html(request: Request, patient_id: str) -> str | None:
    """The registry's timeline and lesion chart for this patient, or None (no registry / unknown patient)."""
    reg = request.app.state.registry
    if reg is None:
        return None
    from markupsafe import escape

    try:
        t = reg.patient_timeline(patient_id)
        svg = reg.chart_svg(patient_id)
    except InputError:  # not in the registry
        return None
    except Exception as exc:
        log.warning("registry unavailable: %s", type(exc).__name__)
        return None
    rows = "".join(
        f"<tr><td>{escape(v['date'])}</td><td>{escape(v.get('age_months'))}</td>"
        f"<td>{escape(_lesions_text(v))}</td>"
        f"<td>{escape(v.get('trajectory') or '')}</td></tr>" for v in t.get("visits") or [])
    events = "".join(f"<li>{escape(e['date'])}: {escape(e.get('label') or e.get('kind'))}</li>"
                     for e in t.get("events") or [])
    plan = t.get("current_plan") or {}
    plan_html = (f"<p>Current plan: <strong>{escape(str(plan.get('effective_strategy', '')).replace('_', ' '))}"
                 f"</strong> (as of {escape(plan.get('as_of'))})</p>") if plan else ""
    return (f"<h3>Registry follow-up: {escape(patient_id)}</h3>{plan_html}<figure class=\"chart\">{svg}</figure>"
            f"<table><thead><tr><th>Visit</th><th>Age (months)</th><th>Lesions</th><th>Trajectory</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>" + (f"<ul class=\"timeline\">{events}</ul>" if events else ""))


def _lesions_text(visit: dict) -> str:
    return ", ".join(f"{m['lesion']}: {m['longest_mm']} mm" for m in visit.get("measurements") or [])


async def _registry_block(request: Request, patient_id: str) -> str | None:
    from starlette.concurrency import run_in_threadpool

    if request.app.state.registry is None:
        return None
    return await run_in_threadpool(_registry_html, request, patient_id)


async def _show(request: Request, assessment: Any, source_label: str, status: int = 200,
                **ctx: Any) -> HTMLResponse:
    from calcinosis.render.html import CSS, assessment_fragment

    return render(request, status, result_html=assessment_fragment(assessment), source_label=source_label,
                  fragment_css=CSS, registry_html=await _registry_block(request, str(assessment.id)),
                  title="Assessment", **ctx)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_UPLOAD:
        raise InputError("body larger than 5 MB", where="body", code="TOO_LARGE")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed JSON: {exc}", where="body", code="MALFORMED_JSON") from None


_JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "A calcinosis-case/1 object, a GA4GH Phenopacket v2 or a FHIR R4 Bundle"}}}}}


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        return render(request, show_form=True)

    @r.post("/", response_class=HTMLResponse, include_in_schema=False)
    async def submit(request: Request) -> HTMLResponse:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            findings = request.app.state.engine.read_obj(case_from_form(form), SRC)
        except InputError as exc:
            return render(request, 422, show_form=True, f=form, errors=_error_list(exc))
        assessment = request.app.state.engine.assess(findings)
        return await _show(request, assessment, "entered in the form", show_form=True, f=form)

    @r.post("/upload", response_class=HTMLResponse, include_in_schema=False)
    async def upload(request: Request) -> HTMLResponse:
        from starlette.datastructures import UploadFile

        try:
            form = await request.form(max_files=1)
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise InputError("no file was uploaded", where="upload: file", code="NO_FILE")
            name = (file.filename or "upload.json")[:200]
            raw = await file.read(MAX_UPLOAD + 1)
            if len(raw) > MAX_UPLOAD:
                raise InputError("file larger than 5 MB", where=name, code="TOO_LARGE")
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise InputError("not UTF-8 text", where=name, code="BAD_ENCODING") from None
            except ValueError as exc:
                raise InputError(f"malformed JSON: {exc}", where=name, code="MALFORMED_JSON") from None
            findings = request.app.state.engine.read_obj(obj, name)
        except InputError as exc:
            return render(request, 422, show_form=True, errors=_error_list(exc),
                          error_title="The uploaded file could not be assessed")
        except Exception as exc:
            if type(exc).__name__ in ("MultiPartException", "HTTPException"):
                return render(request, 400, show_form=True, errors=[Issue("error", "BAD_UPLOAD", str(exc),
                                                                          "upload")])
            raise
        assessment = request.app.state.engine.assess(findings)
        return await _show(request, assessment, f"uploaded: {name}", show_form=True)

    @r.get("/view/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def view(token: str, request: Request) -> HTMLResponse:
        a = request.app.state.views.get(token)
        if a is None:
            return render(request, 404, errors=[Issue("error", "EXPIRED", "this link has expired or is unknown; "
                                                      "open the patient's chart again", "link")],
                          error_title="Assessment not available", show_form=False)
        return await _show(request, a, "from the EHR (CDS Hooks)")

    @r.get("/about", response_class=HTMLResponse, include_in_schema=False)
    async def about(request: Request) -> HTMLResponse:
        return render(request, about=True, title="About", n_sources=len(request.app.state.engine.kb.references))

    @r.get("/patients/{patient_id}", response_class=HTMLResponse, include_in_schema=False)
    async def patient(patient_id: str, request: Request) -> HTMLResponse:
        html = await _registry_block(request, patient_id)
        if html is None:
            return render(request, 404, errors=[Issue("error", "NOT_FOUND", "no registry is configured or the "
                                                      "patient is not in it", "patient")])
        from calcinosis.render.html import CSS

        return render(request, result_html=html, source_label="registry", title="Registry", fragment_css=CSS)

    @r.post("/assess", tags=["JSON API"], summary="Assess a case file, Phenopacket or FHIR Bundle",
            openapi_extra=_JSON_BODY,
            responses={200: {"description": "The assessment (JSON contract, see docs/service.md)"},
                       400: E400, 422: E422})
    async def assess_json(request: Request) -> JSONResponse:
        from calcinosis.render.json_out import to_dict

        status, a = await _assess_body(request)
        return a if status else JSONResponse(to_dict(a))

    @r.post("/assess/fhir", tags=["JSON API"], summary="Assess and answer with a FHIR R4 Bundle",
            openapi_extra=_JSON_BODY,
            responses={200: {"description": "FHIR R4 Bundle (application/fhir+json)"}, 400: E400, 422: E422})
    async def assess_fhir(request: Request) -> Response:
        from calcinosis.io.fhir_out import assessment_to_fhir

        status, a = await _assess_body(request)
        if status:
            return a
        bundle = assessment_to_fhir(a, findings=request.state.findings, kb=request.app.state.engine.kb)
        return Response(json.dumps(bundle), media_type="application/fhir+json")

    return r


async def _assess_body(request: Request) -> tuple[bool, Any]:
    """(False, assessment) or (True, an error response)."""
    try:
        obj = await _json_body(request)
    except InputError as exc:
        return True, JSONResponse(issues_body(exc), status_code=400)
    try:
        findings = request.app.state.engine.read_obj(obj, "body")
    except InputError as exc:
        return True, JSONResponse(issues_body(exc), status_code=422)
    request.state.findings = findings
    return False, request.app.state.engine.assess(findings)
