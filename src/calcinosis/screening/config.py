"""The screening value sets (``kb/data/screening.yaml``) compiled once for both engines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from calcinosis.errors import CalcinosisError


@dataclass(frozen=True)
class Signal:
    id: str
    kind: str  # "calcification" | "lesion" | "risk"
    label: str
    resource_types: frozenset[str]
    codes: frozenset[tuple[str, str]]  # (system, code)
    text: tuple[re.Pattern[str], ...]
    max_age_days: float | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ScreenConfig:
    signals: tuple[Signal, ...]
    lab_window_days: int
    follow_up_tolerance_days: int
    known_types: frozenset[str]
    assessed_types: tuple[str, ...]
    reference_paths: tuple[str, ...]
    age_bands: tuple[tuple[str, float], ...]
    prefilter: str  # one regular expression, a superset of every signal, run by the engines on raw lines
    synthetic: dict[str, Any]
    kb_version: str = ""
    # False (default): each candidate's resources get the single-patient reader's element checks (what is read
    # is checked strictly); True: each is first validated whole against the FHIR R4 models (fhir.resources),
    # about 3 ms a candidate, and one non-conformant element anywhere makes the candidate not assessable
    fhir_validate: bool = False

    @property
    def signal_types(self) -> frozenset[str]:
        """The resource types some signal reads: only their lines can carry a signal (the rules test the type)."""
        return frozenset().union(*(s.resource_types for s in self.signals))

    def age_band(self, age_days: float | None) -> str:
        if age_days is None:
            return "unknown"
        band = "unknown"
        for name, low in self.age_bands:
            if age_days >= low:
                band = name
        return band


def _prefilter(signals: tuple[Signal, ...], raw: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for entry in raw:
        for c in entry.get("codes") or []:
            parts.append('"' + re.escape(str(c["code"])) + '"')
        parts.extend(str(t) for t in entry.get("text") or [])
    # re.escape escapes characters RE2 and Java also accept escaped; keep the pattern portable
    return "(?i)(" + "|".join(sorted(set(parts))) + ")"


def load_config(kb: Any) -> ScreenConfig:
    """Build the config from a loaded knowledge base; raises a clear error when the file is missing."""
    data = kb.get("screening")
    if not isinstance(data, dict):
        raise CalcinosisError("knowledge base has no screening.yaml", code="KB_INVALID")
    raw = data.get("signals") or []
    signals = tuple(
        Signal(
            id=s["id"], kind=s["kind"], label=s.get("label", s["id"]),
            resource_types=frozenset(s.get("resource_types") or ()),
            codes=frozenset((str(c["system"]), str(c["code"])) for c in s.get("codes") or ()),
            text=tuple(re.compile(t, re.IGNORECASE) for t in s.get("text") or ()),
            max_age_days=s.get("max_age_days"),
            sources=tuple(s.get("sources") or ()),
        )
        for s in raw
    )
    return ScreenConfig(
        signals=signals,
        lab_window_days=int(data.get("lab_window_days", 365)),
        follow_up_tolerance_days=int(data.get("follow_up_tolerance_days", 14)),
        known_types=frozenset(data.get("known_types") or ()),
        assessed_types=tuple(data.get("assessed_types") or ()),
        reference_paths=tuple(data.get("patient_reference_paths") or ("subject", "patient")),
        age_bands=tuple((str(n), float(low)) for n, low in data.get("age_bands") or ()),
        prefilter=_prefilter(signals, raw),
        synthetic=dict(data.get("synthetic") or {}),
        kb_version=f"{kb.version}+{kb.content_hash}",
    )
