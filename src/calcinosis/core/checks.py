"""Plausibility checks on Findings: impossible values are refused, never guessed."""

from __future__ import annotations

from typing import Any

from calcinosis.core.labs import check_labs
from calcinosis.core.model import Findings
from calcinosis.errors import Issue

MAX_AGE_DAYS = 130 * 365.25


def check_findings(f: Findings, kb: Any) -> list[Issue]:
    src = f.source_name or f.id
    issues: list[Issue] = []
    if f.age_days is not None and not (0 <= f.age_days <= MAX_AGE_DAYS):
        issues.append(Issue("error", "IMPOSSIBLE_VALUE", f"impossible age: {f.age_days / 365.25:.1f} years",
                            f"{src}: age", "ages run from 0 to 130 years"))
    if f.onset_age_days is not None and not (0 <= f.onset_age_days <= MAX_AGE_DAYS):
        issues.append(Issue("error", "IMPOSSIBLE_VALUE", "impossible age at onset", f"{src}: onset_age", None))
    issues.extend(check_labs(f.labs, kb))
    return issues
