"""The JSON contract of an assessment (schema: ``calcinosis/schemas/assessment.schema.json``)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from calcinosis.core.model import Assessment

SCHEMA_ID = "calcinosis-assessment/1"


_ATOMS = (str, int, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, worked out once per class


def _plain(x: Any) -> Any:
    t = type(x)
    if t in _ATOMS:
        return x
    if t is float:
        return round(x, 4)
    names = _FIELDS.get(t)
    if names is not None:
        return {n: _plain(getattr(x, n)) for n in names}
    if t is list or t is tuple:
        return [_plain(v) for v in x]
    if t is dict:
        return {str(k): _plain(v) for k, v in x.items()}
    if is_dataclass(x) and not isinstance(x, type):
        _FIELDS[t] = tuple(f.name for f in fields(x))
        return _plain(x)
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
