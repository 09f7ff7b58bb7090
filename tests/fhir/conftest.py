"""Fixtures of the FHIR tests: the knowledge base, an example Assessment, R4B validation."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from calcinosis.errors import KnowledgeBaseError

KB_DATA = Path(__file__).resolve().parents[2] / "src" / "calcinosis" / "kb" / "data"
OWN_FILES = ("manifest.yaml", "references.yaml", "references_fhir.yaml", "fhir_mappings.yaml")


@pytest.fixture(scope="session")
def fhir_kb(tmp_path_factory):
    """The packaged knowledge base; if another area's files are broken while they are being written,
    a knowledge base of the files this reader needs (a warning says so) so that these tests still run."""
    from calcinosis.kb import load_kb

    try:
        return load_kb()
    except KnowledgeBaseError as exc:
        warnings.warn(f"packaged knowledge base invalid, FHIR tests use their own files only: {exc}")
        d = tmp_path_factory.mktemp("kb")
        for name in OWN_FILES:
            shutil.copy(KB_DATA / name, d / name)
        return load_kb(d)


@pytest.fixture(scope="session")
def r4b_valid():
    """``r4b_valid(resource)`` validates a resource dict with its fhir.resources.R4B model (raises if not)."""
    from fhir.resources.R4B import get_fhir_model_class

    def check(resource: dict):
        return get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    return check
