"""Hand-written vignettes (tests/core/vignettes/README.md): each reads as its expected type and subtype."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from calcinosis.core.assess import assess
from calcinosis.core.checks import check_findings
from calcinosis.io.case import read_case

VIG = sorted((Path(__file__).parent / "vignettes").glob("*.json"))


@pytest.mark.parametrize("path", VIG, ids=lambda p: p.stem)
def test_vignette(kb, path):
    obj = json.loads(path.read_text())
    want_type, want_sub = obj.pop("_expect")
    wait_unsafe = obj.pop("_wait_unsafe", False)
    accept = obj.pop("_accept", [want_type])  # where the literature itself is split (as the answer key's accept_types)
    findings = read_case(obj, path.name)
    # the CLI refuses a case with an input error: a published case must not be refused
    assert [i.message for i in check_findings(findings, kb) if i.level == "error"] == []
    a = assess(findings, kb)
    c = a.classification
    assert c.type in accept, [(t.type, t.score) for t in c.ranked]
    if want_sub and c.type == want_type:
        assert re.search(want_sub, f"{c.subtype or ''} {(c.subtype_label or '').lower()}"), c.subtype
    unsafe = {"dystrophic", "metastatic", "calciphylaxis"}
    if c.type in unsafe or wait_unsafe:
        assert a.management.strategy != "watchful_waiting", a.management.strategy


def test_there_are_vignettes_for_every_type():
    types = {json.loads(p.read_text())["_expect"][0] for p in VIG}
    assert types == {"dystrophic", "metastatic", "idiopathic", "iatrogenic", "calciphylaxis", "mimic"}
