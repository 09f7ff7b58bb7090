"""The FastAPI app factory: CDS Hooks routes, the web page, the JSON API, security and error handlers."""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from calcinosis import INTENDED_USE, __version__
from calcinosis.service.settings import Settings, default_feedback_db

log = logging.getLogger("calcinosis.service")


def _validation_handler(request: Any, exc: Any) -> Any:
    """422 naming each bad field (400 for malformed JSON); echo no input values (they may be patient data)."""
    from fastapi.responses import JSONResponse

    issues = []
    malformed = False
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        if e.get("type") == "json_invalid":
            malformed = True
        issues.append({"where": loc, "message": e.get("msg", "invalid"), "code": e.get("type", "invalid")})
    if malformed:
        return JSONResponse({"detail": "malformed JSON body", "issues": issues}, status_code=400)
    return JSONResponse({"detail": "invalid request body", "issues": issues}, status_code=422)


def create_app(settings: Settings | None = None, *, kb: Any = None, registry: Any = None) -> Any:
    """Build the app. ``kb`` and ``registry`` may be handed in (tests); otherwise they come from settings."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import Response

    from calcinosis.service import hooks, web
    from calcinosis.service.discovery import discovery, prefetch_templates
    from calcinosis.service.feedback import FeedbackStore
    from calcinosis.service.pipeline import Engine, ResultCache, ViewStore

    settings = settings or Settings()
    app = FastAPI(
        title="calcinosis CDS service",
        version=__version__,
        description=f"CDS Hooks 2.0 service, clinician web page and JSON API for calcinosis cutis. {INTENDED_USE}",
    )
    engine = Engine(settings, kb)
    app.state.settings = settings
    app.state.engine = engine
    app.state.discovery = discovery(engine.kb)
    app.state.prefetch_templates = prefetch_templates(engine.kb)
    app.state.views = ViewStore(settings.view_ttl_s)
    app.state.results = ResultCache(settings.cache_ttl_s)
    app.state.feedback = FeedbackStore(settings.feedback_db or default_feedback_db())
    if registry is None and settings.db_url:
        from calcinosis.registry.api import open_registry

        registry = open_registry(settings.db_url)
    app.state.registry = registry
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.include_router(hooks.router())
    app.include_router(web.router())

    css = (resources.files("calcinosis.service") / "static" / "style.css").read_bytes()

    @app.get("/static/style.css", include_in_schema=False)
    async def style() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/healthz", tags=["ops"], summary="Liveness and knowledge-base version",
             responses={200: {"description": "ok"}})
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "knowledge": engine.kb.describe()}

    if not settings.dev:
        from calcinosis.service.security import JWTMiddleware, JWTVerifier

        app.add_middleware(JWTMiddleware, verifier=JWTVerifier(settings), public_url=settings.public_url)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app
