"""Run the service in several worker processes that share the load evenly.

uvicorn's own ``--workers`` share one listening socket: with keep-alive connections (what an EHR's HTTP
client keeps open) whichever worker accepts first tends to get them all, and the other cores stay idle. Here
each worker opens its own socket on the same port with ``SO_REUSEPORT``, and the Linux kernel spreads new
connections over the workers by a hash of the connection. Where ``SO_REUSEPORT`` is missing, uvicorn's
workers are used instead. A supervisor (this process) restarts a worker that dies and stops them all on
SIGINT/SIGTERM. Each worker rebuilds the app from :data:`calcinosis.service.app.SETTINGS_ENV`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import sys
import time
from typing import Any


def reuseport_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    return s


def check_port(host: str, port: int) -> str | None:
    """None when the workers can bind ``host:port``; otherwise why not."""
    try:
        _socket(host, port).close()
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def _worker(host: str, port: int, env: dict[str, str]) -> None:
    os.environ.update(env)
    import uvicorn

    from calcinosis.service.app import app_from_env

    sock = _socket(host, port)
    sock.listen(2048)
    config = uvicorn.Config(app_from_env(), host=host, port=port, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(host: str, port: int, n: int, env: dict[str, str]) -> None:
    """Start ``n`` workers and supervise them until SIGINT or SIGTERM."""
    ctx = mp.get_context("spawn")
    stopping = False

    def start() -> Any:
        p = ctx.Process(target=_worker, args=(host, port, env), daemon=False)
        p.start()
        return p

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    procs = [start() for _ in range(n)]
    try:
        while not stopping:
            time.sleep(0.25)
            for i, p in enumerate(procs):
                if not p.is_alive() and not stopping:
                    print(f"worker process {p.pid} ended (exit code {p.exitcode}); starting another",
                          file=sys.stderr)
                    procs[i] = start()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
        for p in procs:
            p.join(timeout=20)
            if p.is_alive():
                p.kill()
        for s, h in old.items():
            signal.signal(s, h)
