"""Fixtures for the service tests: real KB, real keys (joserfc), real dev FHIR bundles (see svc_helpers)."""

from __future__ import annotations

import pytest
from svc_helpers import AS_OF, ISS, PUBLIC_URL


@pytest.fixture(scope="session")
def kb():
    from calcinosis.kb import load_kb

    return load_kb()


@pytest.fixture(scope="session")
def keys():
    """The EHR's signing keys: an RSA and an EC key, and the public JWK Set the service trusts."""
    from joserfc.jwk import ECKey, KeySet, RSAKey

    rsa = RSAKey.generate_key(2048, parameters={"kid": "ehr-rsa"}, private=True)
    ec = ECKey.generate_key("P-256", parameters={"kid": "ehr-ec"}, private=True)
    public = KeySet([rsa, ec]).as_dict(private=False)
    return {"rsa": rsa, "ec": ec, "jwks": public}



@pytest.fixture()
def settings_secure(keys, tmp_path):
    from calcinosis.service.settings import Issuer, Settings

    return Settings(dev=False, public_url=PUBLIC_URL, as_of=AS_OF, feedback_db=str(tmp_path / "fb.sqlite3"),
                    issuers=(Issuer(ISS, jwks=keys["jwks"]),))


@pytest.fixture()
def settings_dev(tmp_path):
    from calcinosis.service.settings import Settings

    return Settings(dev=True, as_of=AS_OF, feedback_db=str(tmp_path / "fb.sqlite3"))


@pytest.fixture()
def client_dev(settings_dev, kb):
    from fastapi.testclient import TestClient

    from calcinosis.service.app import create_app

    with TestClient(create_app(settings_dev, kb=kb)) as c:
        yield c


