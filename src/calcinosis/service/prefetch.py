"""Gather a patient's FHIR resources: from the request's prefetch, or from ``fhirServer`` when incomplete.

A prefetch entry that is missing, null or an OperationOutcome counts as not supplied. Fetching follows
Bundle ``next`` links on the same server only (the bearer token never leaves ``fhirServer``), within one
overall time limit. When data is needed and cannot be fetched, :class:`PrefetchUnavailable` (HTTP 412).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin, urlsplit

PATIENT_TOKEN = "{{context.patientId}}"


class PrefetchUnavailable(Exception):
    """Needed data is neither prefetched nor fetchable; ``reason`` is safe to show (no patient data)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _supplied(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") not in (None, "OperationOutcome")


def resources_of(value: Any) -> list[dict]:
    """The resources in one prefetch value: a resource itself, or a Bundle's entries."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        out = []
        for e in value.get("entry") or []:
            r = e.get("resource") if isinstance(e, dict) else None
            if isinstance(r, dict) and r.get("resourceType") not in (None, "OperationOutcome"):
                out.append(r)
        return out
    return [value] if value.get("resourceType") not in (None, "OperationOutcome") else []


def _same_origin(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.netloc) == (y.scheme, y.netloc)


def _what(query: str) -> str:
    """The resource type a query asks for (messages never carry patient ids)."""
    return query.split("?")[0].split("/")[0]


async def _fetch_query(client: Any, base: str, query: str, max_pages: int) -> list[dict]:
    url = urljoin(base.rstrip("/") + "/", query)
    out: list[dict] = []
    for _ in range(max_pages):
        r = await client.get(url)
        if r.status_code == 404 and "?" not in query:  # a read of a resource that does not exist
            raise PrefetchUnavailable(f"FHIR server answered 404 for {_what(query)}")
        if r.status_code != 200:
            raise PrefetchUnavailable(f"FHIR server answered {r.status_code} for {_what(query)}")
        try:
            body = r.json()
        except ValueError:
            raise PrefetchUnavailable(f"FHIR server sent no JSON for {_what(query)}") from None
        out.extend(resources_of(body))
        nxt = None
        if isinstance(body, dict) and body.get("resourceType") == "Bundle":
            for link in body.get("link") or []:
                if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
                    nxt = urljoin(url, link["url"])
        if not nxt:
            return out
        if not _same_origin(nxt, base):
            raise PrefetchUnavailable("FHIR server's next link points to another server; not followed")
        url = nxt
    raise PrefetchUnavailable(f"more than {max_pages} pages for {_what(query)}")


async def gather(templates: dict[str, str], patient_id: str, prefetch: dict[str, Any] | None,
                 fhir_server: str | None, access_token: str | None, *, timeout_s: float,
                 max_pages: int) -> tuple[list[dict], list[str]]:
    """Return (resources, keys fetched from the server). Raises PrefetchUnavailable."""
    prefetch = prefetch or {}
    resources: list[dict] = []
    missing: list[str] = []
    for key in templates:
        value = prefetch.get(key)
        if _supplied(value):
            resources.extend(resources_of(value))
        else:
            missing.append(key)
    if missing:
        if not fhir_server:
            raise PrefetchUnavailable(
                f"prefetch incomplete ({', '.join(missing)}) and no fhirServer to read it from")
        if urlsplit(fhir_server).scheme not in ("http", "https"):
            raise PrefetchUnavailable("fhirServer must be an http(s) URL")
        import httpx

        headers = {"Accept": "application/fhir+json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        queries = [templates[k].replace(PATIENT_TOKEN, patient_id) for k in missing]
        try:
            async with httpx.AsyncClient(headers=headers, timeout=timeout_s, follow_redirects=False) as client:
                results = await asyncio.wait_for(
                    asyncio.gather(*(_fetch_query(client, fhir_server, q, max_pages) for q in queries)),
                    timeout=timeout_s)
        except PrefetchUnavailable:
            raise
        except (TimeoutError, httpx.TimeoutException):
            raise PrefetchUnavailable(f"FHIR server did not answer within {timeout_s:g} s") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # incl. URLs httpx cannot use
            raise PrefetchUnavailable(f"FHIR server unreachable ({type(exc).__name__})") from None
        for rs in results:
            resources.extend(rs)
    seen: set[tuple[str, str]] = set()
    unique: list[dict] = []
    for r in resources:
        key = (str(r.get("resourceType")), str(r.get("id")))
        if r.get("id") is not None and key in seen:
            continue
        seen.add(key)
        unique.append(r)
    return unique, missing
