"""JWT checks on CDS calls (CDS Hooks 2.0 "Trusting CDS Clients"): each rejection is a bare 401.

The feedback endpoint is used as the protected target here (it needs no assessment); the patient-view
endpoint is covered with a valid token in test_service_hooks.py.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from svc_helpers import ISS, PUBLIC_URL, ServerThread, make_token

FEEDBACK = "/cds-services/calcinosis-cutis/feedback"
FB_AUD = f"{PUBLIC_URL}{FEEDBACK}"
BODY = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                      "acceptedSuggestions": [{"id": str(uuid.uuid4())}],
                      "outcomeTimestamp": "2026-11-24T10:00:00Z"}]}


@pytest.fixture()
def client(settings_secure, kb):
    from calcinosis.service.app import create_app

    with TestClient(create_app(settings_secure, kb=kb)) as c:
        yield c


def call(client: TestClient, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(FEEDBACK, json=BODY, headers=headers)


def b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def assert_401(r) -> None:
    assert r.status_code == 401
    assert r.json() == {"detail": "unauthorized"}  # no reason given to the caller
    assert r.headers["www-authenticate"] == "Bearer"


def test_valid_rs256_and_es256_tokens_are_accepted(client, keys):
    assert call(client, make_token(keys["rsa"], "RS256", aud=FB_AUD)).status_code == 200
    assert call(client, make_token(keys["ec"], "ES256", aud=FB_AUD)).status_code == 200


def test_audience_may_be_a_list_or_the_discovery_url(client, keys):
    assert call(client, make_token(keys["rsa"], aud=["https://other.example", FB_AUD])).status_code == 200
    assert call(client, make_token(keys["rsa"], aud=f"{PUBLIC_URL}/cds-services")).status_code == 200


def test_missing_token(client):
    assert_401(call(client, None))
    assert_401(client.post(FEEDBACK, json=BODY, headers={"Authorization": "Basic dXNlcjpwYXNz"}))


def test_unsigned_none_token(client):
    now = 2_000_000_000
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'iss': ISS, 'aud': FB_AUD, 'exp': now, 'iat': now - 10, 'jti': 'x'})}."
    assert_401(call(client, token))


def test_hmac_token_even_with_the_public_key_as_secret(client, keys):
    """The classic algorithm-confusion attack: HS256 'signed' with the issuer's public key (built by hand,
    since joserfc itself refuses to use a public key as an HMAC secret)."""
    import hashlib
    import hmac
    import time

    pem = keys["rsa"].as_pem(private=False)
    now = int(time.time())
    signing_input = (f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'ehr-rsa'})}."
                     f"{b64({'iss': ISS, 'aud': FB_AUD, 'iat': now, 'exp': now + 300, 'jti': str(uuid.uuid4())})}")
    sig = base64.urlsafe_b64encode(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
    assert_401(call(client, f"{signing_input}.{sig.decode()}"))
    from joserfc.jwk import OctKey

    secret = OctKey.generate_key(256, parameters={"kid": "ehr-rsa"})
    assert_401(call(client, make_token(secret, "HS256", aud=FB_AUD)))


def test_expired_token(client, keys):
    assert_401(call(client, make_token(keys["rsa"], aud=FB_AUD, exp_in=-600, iat_offset=-900)))


def test_issued_in_the_future(client, keys):
    assert_401(call(client, make_token(keys["rsa"], aud=FB_AUD, iat_offset=600, exp_in=900)))


def test_wrong_audience(client, keys):
    assert_401(call(client, make_token(keys["rsa"], aud="https://evil.example/cds-services/calcinosis-cutis")))


def test_unknown_issuer(client, keys):
    assert_401(call(client, make_token(keys["rsa"], aud=FB_AUD, iss="https://unknown-ehr.example")))


def test_replayed_jti(client, keys):
    token = make_token(keys["rsa"], aud=FB_AUD)
    assert call(client, token).status_code == 200
    assert_401(call(client, token))
    # a fresh token with the same jti is a replay too
    assert_401(call(client, make_token(keys["ec"], "ES256", aud=FB_AUD, jti=json.loads(
        base64.urlsafe_b64decode(token.split(".")[1] + "==="))["jti"])))


def test_bad_signature(client, keys):
    from joserfc.jwk import RSAKey

    impostor = RSAKey.generate_key(2048, parameters={"kid": "ehr-rsa"}, private=True)
    assert_401(call(client, make_token(impostor, aud=FB_AUD)))
    good = make_token(keys["rsa"], aud=FB_AUD)
    h, p, s = good.split(".")
    tampered = b64({**json.loads(base64.urlsafe_b64decode(p + "===")), "iss": ISS, "sub": "someone-else"})
    assert_401(call(client, f"{h}.{tampered}.{s}"))


def test_missing_jti_or_exp(client, keys):
    assert_401(call(client, make_token(keys["rsa"], aud=FB_AUD, claims={"jti": None})))
    assert_401(call(client, make_token(keys["rsa"], aud=FB_AUD, claims={"exp": None})))


def test_jku_only_when_allow_listed(kb, keys, tmp_path):
    """A token whose jku names an allow-listed JWK Set URL (served by a real local server) is accepted."""
    from joserfc.jwk import KeySet, RSAKey

    from calcinosis.service.app import create_app
    from calcinosis.service.settings import Issuer, Settings

    rotated = RSAKey.generate_key(2048, parameters={"kid": "rotated"}, private=True)
    jwks_app = FastAPI()
    jwks_app.get("/jwks.json")(lambda: KeySet([rotated]).as_dict(private=False))
    with ServerThread(jwks_app) as srv:
        jku = f"{srv.url}/jwks.json"
        s = Settings(public_url=PUBLIC_URL, feedback_db=str(tmp_path / "f.sqlite3"),
                     issuers=(Issuer(ISS, jwks=keys["jwks"], jku_allow=(jku,)),))
        with TestClient(create_app(s, kb=kb)) as c:
            assert call(c, make_token(rotated, aud=FB_AUD, header={"jku": jku})).status_code == 200
            assert_401(call(c, make_token(rotated, aud=FB_AUD, header={"jku": f"{srv.url}/other.json"})))
            assert_401(call(c, make_token(rotated, aud=FB_AUD)))  # not in the configured set


def test_discovery_is_public_and_dev_mode_skips_checks(client, client_dev):
    assert client.get("/cds-services").status_code == 200
    assert client_dev.post(FEEDBACK, json=BODY).status_code == 200


def test_tokens_never_logged(client, keys, caplog):
    token = make_token(keys["rsa"], aud="https://wrong.example")
    with caplog.at_level(logging.DEBUG):
        assert_401(call(client, token))
    assert "wrong_audience" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text
