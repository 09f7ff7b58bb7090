"""Missing prefetch: the service reads a real local FHIR-like server (uvicorn on 127.0.0.1) with the bearer
token, follows ``next`` links, and answers 412 when the data cannot be had."""

from __future__ import annotations

import asyncio

import pytest
from svc_helpers import ServerThread, bundle_resources, fhir_server_app, load_bundle

from calcinosis.service.discovery import PREFETCH_QUERIES
from calcinosis.service.prefetch import PrefetchUnavailable, gather

TOKEN = "access-token-for-tests"


@pytest.fixture(scope="module")
def seed_server():
    res = bundle_resources(load_bundle("randhawa2018-seed"))
    calls: list = []
    with ServerThread(fhir_server_app(res, TOKEN, page_size=2, log=calls)) as srv:
        srv.calls = calls
        srv.resources = res
        yield srv


def run(coro):
    return asyncio.run(coro)


def test_fetches_every_missing_query_following_next_links(seed_server):
    seed_server.calls.clear()
    got, fetched = run(gather(PREFETCH_QUERIES, "randhawa2018-seed", None, seed_server.url + "/fhir", TOKEN,
                              timeout_s=10, max_pages=20))
    assert sorted(fetched) == sorted(PREFETCH_QUERIES)
    # 6 observations in pages of 2 -> 3 requests for observations alone; every resource comes back once
    assert sorted((r["resourceType"], r["id"]) for r in got) == sorted(
        (r["resourceType"], r["id"]) for r in seed_server.resources)
    assert sum(1 for p, q, a in seed_server.calls if p == "/fhir/Observation") == 3
    assert all(a == f"Bearer {TOKEN}" for _, _, a in seed_server.calls)


def test_uses_prefetch_where_given_and_fetches_only_the_rest(seed_server):
    seed_server.calls.clear()
    patient = next(r for r in seed_server.resources if r["resourceType"] == "Patient")
    pre = {k: {"resourceType": "Bundle", "type": "searchset", "entry": []} for k in PREFETCH_QUERIES}
    pre["patient"] = patient
    pre["conditions"] = None  # the client could not prefetch it
    pre["observations"] = {"resourceType": "OperationOutcome", "issue": []}
    got, fetched = run(gather(PREFETCH_QUERIES, "randhawa2018-seed", pre, seed_server.url + "/fhir", TOKEN,
                              timeout_s=10, max_pages=20))
    assert sorted(fetched) == ["conditions", "observations"]
    assert {p for p, _, _ in seed_server.calls} == {"/fhir/Condition", "/fhir/Observation"}
    assert sum(r["resourceType"] == "Condition" for r in got) == 2


def test_wrong_token_is_412(seed_server):
    with pytest.raises(PrefetchUnavailable, match="401"):
        run(gather(PREFETCH_QUERIES, "randhawa2018-seed", None, seed_server.url + "/fhir", "wrong",
                   timeout_s=10, max_pages=20))


def test_no_server_or_unreachable_is_412():
    with pytest.raises(PrefetchUnavailable, match="no fhirServer"):
        run(gather(PREFETCH_QUERIES, "p1", {}, None, None, timeout_s=1, max_pages=2))
    with pytest.raises(PrefetchUnavailable, match="unreachable|did not answer"):
        run(gather(PREFETCH_QUERIES, "p1", {}, "http://127.0.0.1:9/fhir", "t", timeout_s=2, max_pages=2))


def test_next_link_to_another_server_is_not_followed():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/fhir/{rtype}")
    def search(rtype: str):
        return {"resourceType": "Bundle", "type": "searchset", "entry": [],
                "link": [{"relation": "next", "url": "http://evil.example/steal"}]}

    with ServerThread(app) as srv, pytest.raises(PrefetchUnavailable, match="another server"):
        run(gather({"conditions": PREFETCH_QUERIES["conditions"]}, "p1", {}, srv.url + "/fhir", "t",
                   timeout_s=5, max_pages=5))
