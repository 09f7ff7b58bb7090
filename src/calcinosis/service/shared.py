"""State shared by the worker processes of one service instance (``calcinosis serve --workers N``).

With one process the card-link store and the JWT replay store live in that process's memory
(:class:`~calcinosis.service.pipeline.ViewStore`, :class:`~calcinosis.service.security.ReplayStore`). With
several, a card's link may be opened on another worker than the one that made it, and a replayed token may
reach another worker than the first: both stores then live in SQLite files in a private folder in shared
memory (``/dev/shm``, mode 0700), never on disk, removed when the service stops. Same interfaces as the
in-memory stores.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_PURGE_EVERY = 256  # writes between two purges of expired rows


def make_state_dir() -> Path:
    """A new private folder for the instance's shared state: in RAM (/dev/shm) where the system has it."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="calcinosis-service-", dir=base))
    path.chmod(0o700)
    return path


def remove_state_dir(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def in_memory_fs(path: str | Path) -> bool:
    return str(Path(path).resolve()).startswith("/dev/shm/")


class _SQLite:
    """One connection per process, serialised by a lock (the event loop and the thread pool both use it)."""

    def __init__(self, path: Path, schema: str):
        self._con = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=OFF")  # RAM-backed and disposable: no fsync
        with contextlib.suppress(sqlite3.OperationalError):  # another worker may create it at the same time
            self._con.execute(schema)
        self._lock = threading.Lock()
        self._writes = 0


class SharedViewStore(_SQLite):
    """Recent assessments by unguessable token, expiring after ``ttl_s``, at most ``max_items`` kept."""

    def __init__(self, state_dir: str | Path, ttl_s: int, max_items: int = 2000):
        super().__init__(Path(state_dir) / "views.sqlite3",
                         "CREATE TABLE IF NOT EXISTS views (token TEXT PRIMARY KEY, expires REAL NOT NULL, "
                         "data BLOB NOT NULL)")
        self.ttl_s = ttl_s
        self.max_items = max_items

    def put(self, value: Any, token: str | None = None) -> str:
        token = token or secrets.token_urlsafe(18)
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        now = time.time()
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO views VALUES (?, ?, ?)", (token, now + self.ttl_s, data))
            self._writes += 1
            if self._writes % _PURGE_EVERY == 0:
                self._con.execute("DELETE FROM views WHERE expires < ?", (now,))
                self._con.execute("DELETE FROM views WHERE token IN (SELECT token FROM views ORDER BY expires DESC "
                                  "LIMIT -1 OFFSET ?)", (self.max_items,))
        return token

    def get(self, token: str) -> Any | None:
        with self._lock:
            row = self._con.execute("SELECT expires, data FROM views WHERE token = ?", (token,)).fetchone()
        if row is None or row[0] < time.time():
            return None
        return pickle.loads(row[1])  # only this instance's own workers write this private file


class SharedReplayStore(_SQLite):
    """(iss, jti) pairs seen by any worker, remembered until the token expires."""

    def __init__(self, state_dir: str | Path, max_entries: int = 100_000):
        super().__init__(Path(state_dir) / "replay.sqlite3",
                         "CREATE TABLE IF NOT EXISTS seen (iss TEXT NOT NULL, jti TEXT NOT NULL, "
                         "expires REAL NOT NULL, PRIMARY KEY (iss, jti))")
        self._max = max_entries

    def check_and_add(self, iss: str, jti: str, expires_at: float, now: float) -> bool:
        """True when new (and now remembered); False when already seen by any worker."""
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                row = con.execute("SELECT expires FROM seen WHERE iss = ? AND jti = ?", (iss, jti)).fetchone()
                if row is not None and row[0] > now:
                    return False
                self._writes += 1
                if self._writes % _PURGE_EVERY == 0:
                    con.execute("DELETE FROM seen WHERE expires <= ?", (now,))
                    if con.execute("SELECT count(*) FROM seen").fetchone()[0] >= self._max:
                        return False  # flooded with live tokens: refuse rather than forget
                con.execute("INSERT OR REPLACE INTO seen VALUES (?, ?, ?)", (iss, jti, expires_at))
                return True
            finally:
                con.execute("COMMIT")
