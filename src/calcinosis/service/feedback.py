"""CDS Hooks feedback: what clinicians did with our cards, in a small SQLite table (no patient data).

Stored per item: service id, card uuid, outcome, accepted suggestion ids, override reason coding, the
client's outcomeTimestamp and the time received. The free-text ``userComment`` is never stored.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  service_id TEXT NOT NULL,
  card TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  accepted_suggestions TEXT NOT NULL DEFAULT '[]',
  override_system TEXT,
  override_code TEXT,
  override_display TEXT,
  outcome_timestamp TEXT NOT NULL,
  received_at TEXT NOT NULL
)
"""


class FeedbackStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("PRAGMA journal_mode=WAL")
        return con

    def add(self, service_id: str, items: list[Any]) -> int:
        """Store every item in one transaction; returns the number stored."""
        now = _dt.datetime.now(_dt.UTC).isoformat()
        rows = []
        for it in items:
            reason = it.overrideReason.reason if it.overrideReason is not None else None
            rows.append((
                service_id, it.card, it.outcome,
                json.dumps([s.id for s in it.acceptedSuggestions or []]),
                reason.system if reason else None, reason.code if reason else None,
                reason.display if reason else None,
                it.outcomeTimestamp.isoformat(), now,
            ))
        con = self._connect()
        try:
            with con:
                con.executemany(
                    "INSERT INTO feedback (service_id, card, outcome, accepted_suggestions, override_system, "
                    "override_code, override_display, outcome_timestamp, received_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    rows)
        finally:
            con.close()
        return len(rows)

    def list(self, card: str | None = None) -> list[dict[str, Any]]:
        con = self._connect()
        con.row_factory = sqlite3.Row
        try:
            q = "SELECT * FROM feedback" + (" WHERE card = ?" if card else "") + " ORDER BY id"
            rows = con.execute(q, (card,) if card else ()).fetchall()
        finally:
            con.close()
        out = []
        for r in rows:
            d = dict(r)
            d["accepted_suggestions"] = json.loads(d["accepted_suggestions"])
            out.append(d)
        return out
