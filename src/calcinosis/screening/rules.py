"""The one set of screening rules, in plain Python, applied after either engine's scan.

Engines only run the cheap prefilter regex on raw lines; the exact signal test, the age limits, the lab window
and the candidate's resource list are decided here, so DuckDB and Spark cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from calcinosis.screening.config import ScreenConfig, Signal

_REFUTED = {"refuted", "entered-in-error"}
_DATE_FIELDS = ("effectiveDateTime", "recordedDate", "onsetDateTime", "performedDateTime", "occurrenceDateTime",
                "issued", "date", "authoredOn")


def patient_ref(res: dict[str, Any], cfg: ScreenConfig) -> str | None:
    """The id of the Patient a resource belongs to ("Patient/x" -> "x"), or None."""
    if res.get("resourceType") == "Patient":
        return res.get("id")
    for key in cfg.reference_paths:
        ref = (res.get(key) or {}).get("reference") if isinstance(res.get(key), dict) else None
        if isinstance(ref, str) and ref:
            return ref.rsplit("Patient/", 1)[-1] if "Patient/" in ref else None
    return None


def parse_date(value: Any) -> dt.date | None:
    """FHIR date / dateTime (possibly partial) -> date (partial dates take the first day); None if invalid."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return dt.date(int(value), 1, 1)
        if len(value) == 7:
            return dt.date(int(value[:4]), int(value[5:7]), 1)
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def resource_date(res: dict[str, Any]) -> dt.date | None:
    for key in _DATE_FIELDS:
        if key in res:
            return parse_date(res[key])
    for key in ("effectivePeriod", "performedPeriod", "period"):
        per = res.get(key)
        if isinstance(per, dict):
            return parse_date(per.get("start"))
    return None


def _concepts(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in ("code", "medicationCodeableConcept", "valueCodeableConcept"):
        v = res.get(key)
        if isinstance(v, dict):
            out.append(v)
    for key in ("conclusionCode", "reasonCode"):
        for v in res.get(key) or ():
            if isinstance(v, dict):
                out.append(v)
    return out


def _texts(res: dict[str, Any], concepts: list[dict[str, Any]]) -> list[str]:
    texts = [c["text"] for c in concepts if isinstance(c.get("text"), str)]
    texts += [cd["display"] for c in concepts for cd in c.get("coding") or () if isinstance(cd.get("display"), str)]
    if isinstance(res.get("conclusion"), str):
        texts.append(res["conclusion"])
    return texts


def refuted(res: dict[str, Any]) -> bool:
    vs = res.get("verificationStatus") or {}
    codes = {c.get("code") for c in vs.get("coding") or ()} if isinstance(vs, dict) else set()
    return bool(codes & _REFUTED) or res.get("status") in ("entered-in-error", "not-done")


def matches(sig: Signal, res: dict[str, Any]) -> bool:
    if res.get("resourceType") not in sig.resource_types or refuted(res):
        return False
    return _matches(sig, res, _concepts(res), [])


def _matches(sig: Signal, res: dict[str, Any], concepts: list[dict[str, Any]], texts: list[list[str]]) -> bool:
    """``matches`` once the type and refutation are checked; ``texts`` caches ``_texts`` across signals."""
    for c in concepts:
        for cd in c.get("coding") or ():
            if (str(cd.get("system")), str(cd.get("code"))) in sig.codes:
                return True
    if sig.text:
        if not texts:
            texts.append(_texts(res, concepts))
        for t in texts[0]:
            if any(p.search(t) for p in sig.text):
                return True
    return False


def resource_signals(res: dict[str, Any], cfg: ScreenConfig, birth: dt.date | None,
                     as_of: dt.date) -> list[str]:
    """Ids of the signals a resource carries (age limits checked at the resource's date, else the as-of date).

    The same test as ``matches`` for each signal, with the refutation, concepts and texts of the resource
    worked out once (on the first signal of its type, as ``matches`` would)."""
    out = []
    rt = res.get("resourceType")
    concepts: list[dict[str, Any]] | None = None
    texts: list[list[str]] = []
    for sig in cfg.signals:
        if rt not in sig.resource_types:
            continue
        if concepts is None:
            if refuted(res):
                return out  # refuted resources match no signal (out is still empty here)
            concepts = _concepts(res)
        if not _matches(sig, res, concepts, texts):
            continue
        if sig.max_age_days is not None and birth is not None:
            when = resource_date(res) or as_of
            if (when - birth).days > sig.max_age_days:
                continue
        out.append(sig.id)
    return out


def signal_kinds(cfg: ScreenConfig) -> dict[str, str]:
    return {s.id: s.kind for s in cfg.signals}


_TYPE_ORDER_DEFAULT = 99


def sort_key(cfg: ScreenConfig):
    order = {t: i for i, t in enumerate(cfg.assessed_types)}

    def key(res: dict[str, Any]) -> tuple[int, str, str]:
        rt = res.get("resourceType", "")
        return (order.get(rt, _TYPE_ORDER_DEFAULT), rt, str(res.get("id", "")))

    return key


def usable(res: dict[str, Any], cfg: ScreenConfig) -> bool:
    """False for what the scan reports as bad input: unknown types, negative quantities."""
    if res.get("resourceType") not in cfg.known_types:
        return False
    vq = res.get("valueQuantity")
    v = vq.get("value") if isinstance(vq, dict) else None
    return not (isinstance(v, (int, float)) and v < 0)


def _lab_key(res: dict[str, Any]) -> str:
    code = res.get("code") or {}
    for cd in code.get("coding") or ():
        if cd.get("system") == "http://loinc.org" and cd.get("code"):
            return "loinc:" + str(cd["code"])
    return "text:" + str(code.get("text") or "").strip().lower()


def select_resources(resources: Iterable[dict[str, Any]], cfg: ScreenConfig,
                     as_of: dt.date) -> tuple[list[dict[str, Any]], list[dt.date]]:
    """The candidate's resources for the assessment, in canonical order, and its Encounter dates.

    Every resource of the patient goes to the single-patient reader, as an EHR would hand it over, except:
    resources dated after the as-of date (the screen sees what was known then), and Observations other than
    the latest per code within ``lab_window_days``.
    """
    window_start = as_of - dt.timedelta(days=cfg.lab_window_days)
    keep: list[dict[str, Any]] = []
    latest: dict[str, tuple[tuple[dt.date, str], dict[str, Any]]] = {}
    encounters: list[dt.date] = []
    for res in resources:
        rt = res.get("resourceType")
        if not usable(res, cfg):
            continue  # already reported by the engine's scan (unknown type, impossible value)
        when = resource_date(res)
        if when is not None and when > as_of:
            continue
        if rt == "Encounter" and when is not None:
            encounters.append(when)
        if rt == "Observation":
            if when is not None and when < window_start:
                continue
            k = _lab_key(res)
            rank = (when or dt.date.min, str(res.get("id", "")))
            if k not in latest or rank > latest[k][0]:
                latest[k] = (rank, res)
            continue
        keep.append(res)
    keep.extend(v[1] for v in latest.values())
    keep.sort(key=sort_key(cfg))
    return keep, sorted(encounters)


def presentation_date(resources: Iterable[dict[str, Any]], cfg: ScreenConfig,
                      as_of: dt.date) -> dt.date | None:
    """Earliest date of a lesion or calcification signal (the presentation), or None."""
    kinds = {"lesion", "calcification"}
    dates = []
    for res in resources:
        for sig in cfg.signals:
            if sig.kind in kinds and matches(sig, res):
                d = resource_date(res)
                if d is not None and d <= as_of:
                    dates.append(d)
                break
    return min(dates) if dates else None
