"""The JSON contract of an assessment (schema: ``calcinosis/schemas/assessment.schema.json``)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from calcinosis.core.model import Assessment

SCHEMA_ID = "calcinosis-assessment/1"


def _plain(x: Any) -> Any:
    if is_dataclass(x) and not isinstance(x, type):
        return {f.name: _plain(getattr(x, f.name)) for f in fields(x)}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, float):
        return round(x, 4)
    return x


def to_dict(a: Assessment) -> dict[str, Any]:
    """The assessment as plain JSON-ready data, in a stable key order."""
    d = _plain(a)
    d = {"schema": SCHEMA_ID, **d}
    return d
