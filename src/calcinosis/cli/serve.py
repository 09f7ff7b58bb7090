"""``calcinosis serve``: run the CDS Hooks service and the clinician web page under uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

HELP = """Run the CDS Hooks 2.0 service, the clinician web page and the JSON API.

Without --dev every CDS call needs a signed JWT from an issuer listed in --config (see docs/service.md).

Example:

  calcinosis serve --dev --port 8000     (then open http://127.0.0.1:8000/)

  calcinosis serve --config service.yaml --host 0.0.0.0
"""


def register(app: typer.Typer) -> None:
    @app.command("serve", help=HELP)
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
        dev: Annotated[bool, typer.Option("--dev", help="Development mode: NO JWT verification.")] = False,
        db: Annotated[str | None, typer.Option("--db", help="Registry database URL (shows timelines).")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="Settings file (JSON or YAML).")] = None,
        workers: Annotated[int | None, typer.Option(
            min=1, max=64, help="Worker processes (default 1, or the config's 'workers'); one per core serves "
                                "more charts per second.")] = None,
    ) -> None:
        from calcinosis.errors import require

        require("fastapi", "service")
        uvicorn = require("uvicorn", "service")
        from calcinosis.service.app import create_app
        from calcinosis.service.settings import load_settings

        settings = load_settings(config, dev=dev or None, db_url=db)
        if dev:
            bar = "!" * 72
            print(f"{bar}\n!! DEVELOPMENT MODE: JWT verification is OFF. Anyone who can reach this port can call\n"
                  f"!! the CDS service. Never use --dev with real patient data or on a shared network.\n{bar}",
                  file=sys.stderr)
        elif not settings.issuers:
            print("warning: no trusted issuers configured; every CDS call will be refused (401). "
                  "Add issuers in --config or use --dev for local testing.", file=sys.stderr)
        if not dev and not settings.public_url:
            print("warning: public_url not set; the JWT audience is taken from the request's Host header.",
                  file=sys.stderr)
        n = workers or settings.workers
        print(f"calcinosis service on http://{host}:{port}/ (CDS Hooks discovery: /cds-services), "
              f"{n} worker process{'es' if n > 1 else ''}", file=sys.stderr)
        if n == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)
            return
        from calcinosis.errors import InputError
        from calcinosis.service.app import SETTINGS_ENV, settings_to_env
        from calcinosis.service.shared import make_state_dir, remove_state_dir
        from calcinosis.service.workers import check_port, reuseport_supported, run_workers

        create_app(settings)  # refuse a bad setting here, once, before the workers start
        if reuseport_supported() and (why := check_port(host, port)):
            raise InputError(why, where="--port", code="PORT_UNAVAILABLE")
        state = make_state_dir()
        env = {SETTINGS_ENV: settings_to_env(str(config) if config else None, {
            "dev": dev or None, "db_url": db, "workers": n, "state_dir": str(state)})}
        try:
            if reuseport_supported():
                run_workers(host, port, n, env)
            else:  # pragma: no cover - not Linux: uvicorn's workers (one shared socket)
                import os

                os.environ.update(env)
                uvicorn.run("calcinosis.service.app:app_from_env", factory=True, workers=n, host=host, port=port,
                            log_level="warning", access_log=False)
        finally:
            remove_state_dir(state)
