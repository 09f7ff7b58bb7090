"""From input to assessment for the service: one knowledge base, one clock, one short-lived view store.

The core stays pure; this adapter supplies the date ("as of") and keeps recent assessments in memory only
(for the card's link to the full assessment), never on disk.
"""

from __future__ import annotations

import datetime as _dt
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

from calcinosis.service.settings import Settings


class Engine:
    """Holds the loaded knowledge base and runs readers + ``assess`` with the service's clock."""

    def __init__(self, settings: Settings, kb: Any = None):
        from calcinosis.kb import load_kb

        self.settings = settings
        self.kb = kb if kb is not None else load_kb()

    def as_of(self) -> str:
        return self.settings.as_of or _dt.date.today().isoformat()

    def assess(self, findings: Any) -> Any:
        from calcinosis.core.assess import assess

        return assess(findings, self.kb, as_of=self.as_of())

    def read_obj(self, obj: Any, src: str) -> Any:
        from calcinosis.io.read import read_obj

        return read_obj(obj, src, kb=self.kb, as_of=self.as_of())

    def read_resources(self, resources: list[dict], src: str, patient_id: str) -> Any:
        from calcinosis.io.fhir_in import read_resources

        return read_resources(resources, src, as_of=self.as_of(), kb=self.kb, patient_id=patient_id,
                              validate=self.settings.fhir_validate)


class ResultCache:
    """Assessments of recently seen charts, keyed by a SHA-256 of (patient, prefetch as sent, date, KB hash).

    An EHR re-sends the same chart each time it is opened; the assessment is a pure function of that key, so
    a hit returns the same result without re-reading. The prefetch is serialised in the order it came (a chart
    sent in another order is only a miss). In memory only, LRU-bounded, entries expire.
    """

    def __init__(self, ttl_s: int = 300, max_items: int = 256):
        self._store = ViewStore(ttl_s, max_items)

    @staticmethod
    def key(patient_id: str, prefetch: Any, as_of: str, kb_hash: str) -> str:
        import hashlib

        h = hashlib.sha256("\0".join((patient_id, as_of, kb_hash, "")).encode())
        try:
            import orjson

            h.update(orjson.dumps(prefetch, default=str))
        except (ImportError, TypeError):  # no orjson, or what orjson cannot write (integers beyond 64 bits)
            import json

            h.update(json.dumps(prefetch, separators=(",", ":"), default=str).encode())
        return h.hexdigest()

    def get(self, key: str) -> Any | None:
        return self._store.get(key)

    def put(self, key: str, value: Any) -> None:
        self._store.put(value, token=key)


class ViewStore:
    """Recent assessments by unguessable token, in memory, expiring after ``ttl_s`` (LRU-bounded)."""

    def __init__(self, ttl_s: int, max_items: int = 2000):
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, value: Any, token: str | None = None) -> str:
        token = token or secrets.token_urlsafe(18)
        now = time.monotonic()
        with self._lock:
            self._items[token] = (now + self.ttl_s, value)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return token

    def get(self, token: str) -> Any | None:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(token)
            if hit is None:
                return None
            if hit[0] < now:
                del self._items[token]
                return None
            return hit[1]
