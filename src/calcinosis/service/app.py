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
    if settings.state_dir:  # several worker processes: stores they must share
        from calcinosis.service.shared import SharedReplayStore, SharedViewStore

        app.state.views = SharedViewStore(settings.state_dir, settings.view_ttl_s)
        replay = SharedReplayStore(settings.state_dir)
    else:
        app.state.views = ViewStore(settings.view_ttl_s)
        replay = None
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

        app.add_middleware(JWTMiddleware, verifier=JWTVerifier(settings, replay), public_url=settings.public_url)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return app


#: Environment variable through which ``calcinosis serve --workers N`` hands its settings to each worker.
SETTINGS_ENV = "CALCINOSIS_SERVICE_SETTINGS"


def settings_to_env(config: str | None, overrides: dict[str, Any]) -> str:
    """What a worker needs to rebuild the parent's Settings: the config file and the command-line overrides."""
    import json

    return json.dumps({"config": config, "overrides": overrides})


def app_from_env() -> Any:
    """App factory for uvicorn's worker processes (``factory=True``); see :func:`settings_to_env`."""
    import json
    import os

    from calcinosis.service.settings import load_settings

    spec = json.loads(os.environ[SETTINGS_ENV])
    return create_app(load_settings(spec["config"], **spec["overrides"]))
