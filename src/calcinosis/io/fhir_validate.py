"""Validate FHIR R4 resources with the ``fhir.resources.R4B`` models (R4B reads R4 JSON).

Each validation error becomes an Issue naming the file, the resource and the field path
(``Observation/obs-3: valueQuantity.value: ...``). The models are imported lazily (extra ``fhir``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from calcinosis.errors import require
from calcinosis.io.fhir_common import Ctx


@cache
def model_class(resource_type: str) -> Any:
    """The R4B model class for a resource type, or None when R4B has no such resource."""
    r4b = require("fhir.resources.R4B", "fhir")
    try:
        return r4b.get_fhir_model_class(resource_type)
    except (ValueError, KeyError, AttributeError, ImportError):
        return None


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "__root__":
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def validate_resource(ctx: Ctx, resource: dict, label: str) -> bool:
    """Validate one resource; add an issue per error to ``ctx``. Returns True when valid."""
    cls = model_class(resource["resourceType"])
    if cls is None:
        ctx.error(label, "resourceType", f"unknown FHIR resource type {resource['resourceType']!r}",
                  "use an FHIR R4 resource type")
        return False
    from pydantic import ValidationError

    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        for e in exc.errors()[:20]:
            msg = e.get("msg", "invalid")
            if e.get("type") == "extra_forbidden":
                msg = "not an element of this resource type"
            ctx.error(label, _loc(tuple(e.get("loc", ()))), msg)
        return False
    except (ValueError, TypeError) as exc:  # fhir.resources raises plain errors for some shape problems
        ctx.error(label, "", f"invalid resource: {exc}")
        return False
    return True
