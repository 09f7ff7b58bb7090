"""patient-view on the 18 published dev patients (FHIR R4 Bundles turned into prefetch), card limits and
fields, request errors, 412, fetching from a real local FHIR server, and a signed call."""

from __future__ import annotations

import copy
import uuid

import pytest
from fastapi.testclient import TestClient
from svc_helpers import (
    DEV_FHIR,
    PUBLIC_URL,
    ServerThread,
    bundle_resources,
    fhir_server_app,
    hook_request,
    load_bundle,
    make_token,
    prefetch_from_bundle,
)

from calcinosis.service.models import CdsResponse

URL = "/cds-services/calcinosis-cutis"
CASE_IDS = sorted(p.stem for p in DEV_FHIR.glob("*.json"))
LOINC = "http://loinc.org"


def call(client, case_id: str, **extra):
    pid, pre = prefetch_from_bundle(load_bundle(case_id))
    body = hook_request(pid, pre, **extra)
    return body, client.post(URL, json=body)


def one_card(r) -> dict:
    assert r.status_code == 200, r.text
    cards = CdsResponse.model_validate(r.json()).cards  # the spec's shape, checked by our models
    assert len(cards) == 1
    return r.json()["cards"][0]


def test_seed_case_is_info_tumoral_watchful_waiting(client_dev):
    card = one_card(call(client_dev, "randhawa2018-seed")[1])
    assert card["indicator"] == "info"
    assert "tumoral" in card["summary"].lower() and "watchful waiting" in card["summary"]
    assert "**Classification:**" in card["detail"] and "**Sources:**" in card["detail"]
    assert "seed_randhawa2018" in card["detail"]


def test_calciphylaxis_case_is_critical(client_dev):
    card = one_card(call(client_dev, "timmis2010-calciphylaxis-17y")[1])
    assert card["indicator"] == "critical"
    assert "calciphylaxis" in card["summary"]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_every_dev_patient_gets_a_well_formed_card(client_dev, case_id):
    body, r = call(client_dev, case_id)
    card = one_card(r)
    assert 0 < len(card["summary"]) < 140
    assert uuid.UUID(card["uuid"])
    assert card["source"]["label"] and card["source"]["topic"]["code"]
    assert all(set(c) >= {"code", "system", "display"} for c in card["overrideReasons"])
    assert [link["type"] for link in card["links"]] == ["absolute"]
    # the indicator follows the assessment (same bundle through the JSON API)
    a = client_dev.post("/assess", json=load_bundle(case_id)).json()
    if a["classification"]["type"] in ("calciphylaxis", "metastatic"):
        assert card["indicator"] == "critical"
    elif any(w["essential"] for w in a["missing_workup"]):
        assert card["indicator"] == "warning"
    else:
        assert card["indicator"] == "info"
    labs = [w for w in a["missing_workup"] if w["loinc"]]
    sugg = card.get("suggestions") or []
    assert len(sugg) == len(labs)
    if sugg:
        assert card["selectionBehavior"] == "any"
    for s, w in zip(sugg, labs):
        assert uuid.UUID(s["uuid"]) and s["isRecommended"] == w["essential"]
        (action,) = s["actions"]
        sr = action["resource"]
        assert action["type"] == "create" and sr["resourceType"] == "ServiceRequest"
        assert sr["subject"]["reference"] == f"Patient/{body['context']['patientId']}"
        assert {c["code"] for c in sr["code"]["coding"] if c["system"] == LOINC} == set(w["loinc"])


def test_suggestions_are_loinc_service_requests(client_dev):
    card = one_card(call(client_dev, "tan2006-infant-esrd")[1])
    assert card["suggestions"], "a dialysis infant with no calcium/phosphate values needs labs ordered"
    for s in card["suggestions"]:
        codes = s["actions"][0]["resource"]["code"]["coding"]
        assert codes and all(c["system"] == LOINC for c in codes)


def test_uuids_stable_per_hook_instance(client_dev):
    pid, pre = prefetch_from_bundle(load_bundle("tan2006-infant-esrd"))
    body = hook_request(pid, pre)
    a = one_card(client_dev.post(URL, json=body))
    b = one_card(client_dev.post(URL, json=body))
    c = one_card(client_dev.post(URL, json={**body, "hookInstance": str(uuid.uuid4())}))
    ids = lambda card: [card["uuid"]] + [s["uuid"] for s in card.get("suggestions", [])]
    assert ids(a) == ids(b)
    assert not set(ids(a)) & set(ids(c))
    assert len(set(ids(a))) == len(ids(a))


def test_link_opens_the_full_assessment_page(client_dev):
    card = one_card(call(client_dev, "randhawa2018-seed")[1])
    url = card["links"][0]["url"]
    assert url.startswith("http://testserver/view/")
    page = client_dev.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert "tumoral calcinosis" in page.text.lower() and "not a diagnosis" in page.text
    assert client_dev.get("/view/not-a-token").status_code == 404


def test_chart_without_any_lesion_gives_no_cards(client_dev):
    pid, pre = prefetch_from_bundle({"entry": [{"resource": {"resourceType": "Patient", "id": "p0",
                                                             "birthDate": "2020-01-01"}}]})
    r = client_dev.post(URL, json=hook_request(pid, pre))
    assert r.status_code == 200 and r.json() == {"cards": []}


@pytest.mark.parametrize("mutate, status", [
    (lambda b: b.pop("hookInstance"), 422),
    (lambda b: b.update(hookInstance="not-a-uuid"), 422),
    (lambda b: b.update(hook="order-sign"), 422),
    (lambda b: b.pop("context"), 422),
    (lambda b: b["context"].pop("patientId"), 422),
    (lambda b: b["context"].update(patientId="../../etc/passwd"), 422),
    (lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}), 422),
    (lambda b: b["context"].update(patientId="someone-else"), 422),  # prefetch Patient is another patient
])
def test_bad_requests_are_4xx_with_named_fields(client_dev, mutate, status):
    pid, pre = prefetch_from_bundle(load_bundle("randhawa2018-seed"))
    body = hook_request(pid, copy.deepcopy(pre))
    mutate(body)
    r = client_dev.post(URL, json=body)
    assert r.status_code == status, r.text
    assert r.json()["detail"]


def test_malformed_json_is_400_and_unknown_service_404(client_dev):
    r = client_dev.post(URL, content=b'{"hook": "patient-view",', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"] == "malformed JSON body"
    pid, pre = prefetch_from_bundle(load_bundle("randhawa2018-seed"))
    assert client_dev.post("/cds-services/no-such-service", json=hook_request(pid, pre)).status_code == 404
    assert client_dev.post("/cds-services/no-such-service/feedback", json={}).status_code == 404


def test_no_prefetch_and_no_fhir_server_is_412(client_dev):
    r = client_dev.post(URL, json=hook_request("randhawa2018-seed", None))
    assert r.status_code == 412 and "fhirServer" in r.json()["detail"]
    _, pre = prefetch_from_bundle(load_bundle("randhawa2018-seed"))
    del pre["conditions"]
    assert client_dev.post(URL, json=hook_request("randhawa2018-seed", pre)).status_code == 412


def test_no_prefetch_fetches_from_the_fhir_server_with_the_token(client_dev):
    bundle = load_bundle("timmis2010-calciphylaxis-17y")
    pid, pre = prefetch_from_bundle(bundle)
    with_prefetch = one_card(client_dev.post(URL, json=hook_request(pid, pre)))
    calls: list = []
    token = "ehr-access-token"
    with ServerThread(fhir_server_app(bundle_resources(bundle), token, page_size=3, log=calls)) as fhir:
        auth = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                "scope": "patient/*.read", "subject": "cds-service"}
        body = hook_request(pid, None, fhirServer=f"{fhir.url}/fhir", fhirAuthorization=auth)
        card = one_card(client_dev.post(URL, json=body))
        assert calls and all(a == f"Bearer {token}" for _, _, a in calls)
        assert {p for p, _, _ in calls} >= {f"/fhir/Patient/{pid}", "/fhir/Observation", "/fhir/Condition"}
        bad = hook_request(pid, None, fhirServer=f"{fhir.url}/fhir", fhirAuthorization={**auth, "access_token": "x"})
        assert client_dev.post(URL, json=bad).status_code == 412
    assert card["indicator"] == "critical" and card["summary"] == with_prefetch["summary"]


def test_signed_call_end_to_end(settings_secure, kb, keys):
    from calcinosis.service.app import create_app

    pid, pre = prefetch_from_bundle(load_bundle("randhawa2018-seed"))
    with TestClient(create_app(settings_secure, kb=kb)) as c:
        body = hook_request(pid, pre)
        assert c.post(URL, json=body).status_code == 401
        tok = make_token(keys["ec"], "ES256", aud=f"{PUBLIC_URL}{URL}")
        r = c.post(URL, json=body, headers={"Authorization": f"Bearer {tok}"})
        card = one_card(r)
        assert card["links"][0]["url"].startswith(f"{PUBLIC_URL}/view/")
        assert card["source"]["url"] == f"{PUBLIC_URL}/about"


def test_identical_chart_reuses_the_assessment_changed_chart_does_not(client_dev, monkeypatch):
    from calcinosis.service.pipeline import ResultCache

    st = client_dev.app.state
    monkeypatch.setattr(st, "results", ResultCache(300))  # other tests may have sent this chart already
    reads = []
    real = st.engine.read_resources
    monkeypatch.setattr(st.engine, "read_resources", lambda *a, **k: reads.append(1) or real(*a, **k))
    pid, pre = prefetch_from_bundle(load_bundle("timmis2010-calciphylaxis-17y"))
    a = one_card(client_dev.post(URL, json=hook_request(pid, pre)))
    # the same chart under another hookInstance and access token: read once, assessed once
    b = one_card(client_dev.post(URL, json=hook_request(
        pid, pre, fhirServer="https://ehr.example.org/fhir",
        fhirAuthorization={"access_token": "tok-" + "x" * 20, "token_type": "Bearer",
                                     "expires_in": 300, "scope": "patient/*.read", "subject": "cds"})))
    assert len(reads) == 1 and b["summary"] == a["summary"] and b["uuid"] != a["uuid"]
    changed = copy.deepcopy(pre)
    changed["conditions"]["entry"] = []  # the chart changed: a fresh assessment
    assert client_dev.post(URL, json=hook_request(pid, changed)).status_code == 200
    assert len(reads) == 2
    # another patient id with the same resources is never served from the cache
    assert client_dev.post(URL, json=hook_request("someone-else", pre)).status_code == 422
