"""Fixtures of the FHIR tests: the knowledge base, an example Assessment, R4B validation."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def fhir_kb():
    """The packaged knowledge base (a broken knowledge base must fail these tests too)."""
    from calcinosis.kb import load_kb

    return load_kb()


@pytest.fixture(scope="session")
def r4b_valid():
    """``r4b_valid(resource)`` validates a resource dict with its fhir.resources.R4B model (raises if not)."""
    from fhir.resources.R4B import get_fhir_model_class

    def check(resource: dict):
        return get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    return check
