"""Shared test fixtures: the bundled knowledge base and the published cases in ../shared/cases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CALCINOSIS_SHARED", ROOT.parent / "shared"))
CASES = SHARED / "cases"


@pytest.fixture(scope="session")
def kb():
    from calcinosis.kb import load_kb

    return load_kb()


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    if not (CASES / "dev").is_dir():
        pytest.fail(f"the published development cases are missing: {CASES / 'dev'}")
    return CASES


@pytest.fixture(scope="session")
def expected(cases_dir):
    import json

    return json.loads((cases_dir / "dev-expected.json").read_text())
