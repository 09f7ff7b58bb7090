"""Conditions (the lesion, history flags, denied history), family history, medications and procedures."""

from __future__ import annotations

from typing import Any

from calcinosis.core.model import Coding
from calcinosis.io.fhir_common import (
    Acc,
    Ctx,
    add_unique,
    age_days,
    cc_label,
    cc_text,
    codings,
    contains_any,
    days_between,
    first_code,
    note_texts,
    parse_date,
)
from calcinosis.io.fhir_map import norm
from calcinosis.io.fhir_obs import apply_lesion, lesion_key

TENTATIVE = ("unconfirmed", "provisional", "differential")


def _hpo(cs: list[tuple[str, str, str | None]]) -> list[str]:
    return [c for s, c, _ in cs if s == "hpo"]


def read_condition(ctx: Ctx, acc: Acc, cond: dict, label: str) -> None:
    m = ctx.maps
    ver = first_code(cond.get("verificationStatus"))
    if ver == "entered-in-error":
        ctx.note(label, "verificationStatus entered-in-error; ignored")
        return
    code = cond.get("code")
    text = cc_text(code)
    cs = codings(m, code)
    if text is None and not cs:
        ctx.note(label, "no code or text; ignored")
        return
    label_text = text or f"{cs[0][0]} {cs[0][1]}"
    pairs = [(s, c) for s, c, _ in cs]
    coded = [Coding(s, c, d) for s, c, d in cs if s != "hpo"]
    notes = note_texts(cond)
    if ver == "refuted":
        acc.codes_absent.extend(coded)
        acc.hpo_excluded.extend(_hpo(cs))
        add_unique(acc.denied, label_text)
        for flag, matcher in m.flags.items():
            if flag != "connective_tissue_disease" and matcher.match(pairs, text):
                acc.set_flag(flag, False)
        return
    if ver in TENTATIVE:
        add_unique(acc.other_conditions, f"{label_text} ({ver})")
        ctx.note(label, f"verificationStatus {ver}: kept as text only, not as a coded or history fact")
        return
    acc.codes_present.extend(coded)
    acc.hpo_present.extend(_hpo(cs))
    if m.lesion_condition.match(pairs, text) or any(lesion_key(ctx, n) for n in notes):
        _read_lesion(ctx, acc, cond, label, text, cs, notes)
        return
    mapped = False
    for flag, matcher in m.flags.items():
        if matcher.match(pairs, text) or _named_in_text(m, flag, text):
            mapped = True
            if flag == "connective_tissue_disease":
                add_unique(acc.ctd, label_text)
            else:
                acc.set_flag(flag, True)
    if not mapped:
        add_unique(acc.other_conditions, label_text)


def _named_in_text(m: Any, flag: str, text: str | None) -> bool:
    """A free-text Condition that names the flag's disease in its words ("limited cutaneous systemic
    sclerosis (CREST)", "antisynthetase syndrome (anti-Jo-1 positive)"), not in a negated mention."""
    words = m.flag_words.get(flag) or ()
    return bool(words) and contains_any(text, words) and not contains_any(text, m.flag_word_negations.get(flag, ()))


def _read_lesion(ctx: Ctx, acc: Acc, cond: dict, label: str, text: str | None,
                 cs: list[tuple[str, str, str | None]], notes: list[str]) -> None:
    acc.lesion_described = True
    for bs in cond.get("bodySite") or ():
        site = cc_label(ctx.maps, bs)
        if site:
            acc.sites.append(site)
    generic = ctx.maps.lesion_condition.texts | {norm(d) for _, _, d in cs if d}
    if text and norm(text) not in generic:
        add_unique(acc.descriptions, text)
    for n in notes:
        kv = lesion_key(ctx, n)
        if kv:
            apply_lesion(ctx, acc, label, kv[0], kv[1])
        else:
            add_unique(acc.descriptions, n)
    onset = None
    if "onsetAge" in cond:
        onset = age_days(cond["onsetAge"])
        if onset is None:
            ctx.note(label, "onsetAge has no time unit; onset left unknown")
    else:
        when = cond.get("onsetDateTime") or (cond.get("onsetPeriod") or {}).get("start")
        pd = parse_date(when) if when else None
        if pd and ctx.birth is not None:
            onset = days_between(ctx.birth, pd[0])
        elif "onsetString" in cond or "onsetRange" in cond:
            ctx.note(label, "onset given as text or range; onset left unknown")
    if onset is not None:
        if onset < 0:
            ctx.error(label, "onset", "onset is before birth", code="IMPOSSIBLE_VALUE")
            return
        acc.onset_age_days = onset if acc.onset_age_days is None else min(acc.onset_age_days, onset)


def read_family_history(ctx: Ctx, acc: Acc, fmh: dict, label: str) -> None:
    m = ctx.maps
    if ctx.skipped_status(fmh, m.fmh_ignored, label):
        return
    relative = cc_text(fmh.get("relationship")) or "relative"
    conditions = [c for c in fmh.get("condition") or () if isinstance(c, dict)]
    if conditions:
        relevant = False
        for c in conditions:
            what = cc_label(m, c.get("code")) or "condition"
            add_unique(acc.family_conditions, f"{relative}: {what}")
            if contains_any(" ".join([what, *note_texts(c)]), m.fmh_relevant):
                relevant = True
        if relevant:
            acc.set_flag("family_history", True)
        else:
            ctx.note(label, "the relatives' conditions are not similar lesions; family history left unknown")
        return
    if any(contains_any(n, m.fmh_negative) for n in note_texts(fmh)):
        acc.set_flag("family_history", False)
    else:
        ctx.note(label, "no condition and no negative statement; ignored")


_ROUTES = {"MedicationAdministration": "dosage", "MedicationRequest": "dosageInstruction",
           "MedicationStatement": "dosage"}


def _routes(res: dict) -> list[Any]:
    d = res.get(_ROUTES[res["resourceType"]])
    items = d if isinstance(d, list) else [d] if isinstance(d, dict) else []
    return [x.get("route") for x in items if isinstance(x, dict) and x.get("route")]


def read_medication(ctx: Ctx, acc: Acc, res: dict, label: str, resolve) -> None:
    m = ctx.maps
    if ctx.skipped_status(res, m.med_ignored, label):
        return
    concept = res.get("medicationCodeableConcept")
    ref = res.get("medicationReference")
    if concept is None and isinstance(ref, dict):
        target = resolve(ref["reference"], res) if isinstance(ref.get("reference"), str) else None
        concept = (target or {}).get("code") if target else {"text": ref.get("display")}
    name = cc_label(m, concept)
    if not name:
        ctx.note(label, "the medication is not named (no code, text or resolvable reference); ignored")
        return
    add_unique(acc.medications, name)
    pairs = [(s, c) for s, c, _ in codings(m, concept)]
    notes = note_texts(res)
    if m.agent_codes.match(pairs, None) or contains_any(name, m.agent_words):
        acc.agent = True
    for n in notes:
        key, sep, value = n.partition(":")
        if sep and contains_any(key, m.agent_note_phrases):
            v = norm(value)
            if v in m.yes_words:
                acc.agent = True
            elif v in m.no_words and acc.agent is None:
                acc.agent = False
    routes = _routes(res)
    route_texts = [cc_text(r) for r in routes if cc_text(r)]
    parenteral = (any(m.parenteral_routes.match([(s, c) for s, c, _ in codings(m, r)], None) for r in routes)
                  or any(contains_any(t, m.parenteral_words) for t in [name, *route_texts, *notes]))
    if parenteral:
        route = next((t for t in route_texts if norm(t) not in norm(name)), None)
        add_unique(acc.injections, f"{name} ({route})" if route else name)


def read_procedure(ctx: Ctx, acc: Acc, proc: dict, label: str) -> None:
    m = ctx.maps
    if ctx.skipped_status(proc, m.proc_ignored, label):
        return
    name = cc_label(m, proc.get("code"))
    if not name:
        ctx.note(label, "no code or text; ignored")
        return
    add_unique(acc.procedures, name)
    pairs = [(s, c) for s, c, _ in codings(m, proc.get("code"))]
    if m.flags["dialysis"].match(pairs, cc_text(proc.get("code"))):
        acc.set_flag("dialysis", True)
    if any(contains_any(t, m.puncture_words) for t in [name, *note_texts(proc)]):
        add_unique(acc.injections, name)
