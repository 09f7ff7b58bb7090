"""The FHIR mappings of the knowledge base (``kb/data/fhir_mappings.yaml``), compiled once per KB.

Turns the YAML into fast lookups (code sets, prefix lists, normalised word lists) and checks it,
naming file and entry for every problem. The compiled form is cached in ``kb.cache``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from calcinosis.errors import KnowledgeBaseError

FILE = "fhir_mappings.yaml"
_SPACES = re.compile(r"\s+")
LESION_FIELDS = ("count", "max_size_mm", "painful", "ulcerated", "inflammation", "age_text")
FLAGS = ("trauma", "renal_failure", "dialysis", "connective_tissue_disease")


def norm(text: Any) -> str:
    """Lower-case text with single spaces (the form every text match uses)."""
    return _SPACES.sub(" ", str(text)).strip().lower()


@dataclass(frozen=True)
class CodeMatcher:
    """Exact codes, code prefixes and whole texts that identify one concept."""

    codes: frozenset[tuple[str, str]]
    prefixes: tuple[tuple[str, str], ...]
    texts: frozenset[str]

    def match_code(self, system: str, code: str) -> bool:
        if (system, code) in self.codes:
            return True
        return any(system == s and code.startswith(p) for s, p in self.prefixes)

    def match(self, codings: list[tuple[str, str]], text: str | None) -> bool:
        if any(self.match_code(s, c) for s, c in codings):
            return True
        return text is not None and norm(text) in self.texts


@dataclass(frozen=True)
class Mappings:
    systems: dict[str, str]
    interpretation: dict[str, str]
    lab_categories: frozenset[str]
    obs_ignored: frozenset[str]
    lesion_condition: CodeMatcher
    lesion_keys: dict[str, str]
    yes_words: frozenset[str]
    no_words: frozenset[str]
    size_units_mm: dict[str, float]
    flags: dict[str, CodeMatcher]
    flag_words: dict[str, tuple[str, ...]]  # words that name the flag anywhere in a confirmed Condition's text
    flag_word_negations: dict[str, tuple[str, ...]]  # ... unless the text has one of these (a negated mention)
    fmh_relevant: tuple[str, ...]
    fmh_negative: tuple[str, ...]
    fmh_ignored: frozenset[str]
    agent_words: tuple[str, ...]
    agent_codes: CodeMatcher
    parenteral_routes: CodeMatcher
    parenteral_words: tuple[str, ...]
    agent_note_phrases: tuple[str, ...]
    med_ignored: frozenset[str]
    puncture_words: tuple[str, ...]
    proc_ignored: frozenset[str]
    pathology: CodeMatcher
    imaging: CodeMatcher
    pathology_words: tuple[str, ...]
    imaging_words: tuple[str, ...]
    report_ignored: frozenset[str]
    qualitative_risk: tuple[tuple[float, str, str], ...]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, data: dict, name: str) -> dict:
        sec = data.get(name)
        if not isinstance(sec, dict):
            self.problems.append(f"{FILE}: {name}: missing or not a mapping")
            return {}
        if not sec.get("sources") and name != "history_flags":
            self.problems.append(f"{FILE}: {name}: no sources")
        return sec

    def words(self, sec: dict, key: str, where: str) -> tuple[str, ...]:
        v = sec.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, (str, int)) for x in v):
            self.problems.append(f"{FILE}: {where}.{key}: must be a list of strings")
            return ()
        return tuple(norm(x) for x in v)

    def matcher(self, sec: dict, where: str, codes_key: str = "codes", prefix_key: str = "code_prefixes",
                texts_key: str = "exact_texts") -> CodeMatcher:
        codes: set[tuple[str, str]] = set()
        prefixes: list[tuple[str, str]] = []
        for i, c in enumerate(sec.get(codes_key) or []):
            if not isinstance(c, dict) or not c.get("system") or not c.get("code"):
                self.problems.append(f"{FILE}: {where}.{codes_key}[{i}]: needs system and code")
                continue
            codes.add((str(c["system"]), str(c["code"])))
        for i, c in enumerate(sec.get(prefix_key) or []):
            if not isinstance(c, dict) or not c.get("system") or not c.get("prefix"):
                self.problems.append(f"{FILE}: {where}.{prefix_key}[{i}]: needs system and prefix")
                continue
            prefixes.append((str(c["system"]), str(c["prefix"])))
        return CodeMatcher(frozenset(codes), tuple(prefixes), frozenset(self.words(sec, texts_key, where)))


def compile_mappings(data: dict[str, Any]) -> Mappings:
    """Compile the ``fhir_mappings`` content; raises KnowledgeBaseError listing every problem."""
    ck = _Checker()
    if not isinstance(data, dict):
        raise KnowledgeBaseError([f"{FILE}: missing or not a mapping"])
    systems = ck.section(data, "systems").get("map") or {}
    interp = ck.section(data, "interpretation").get("map") or {}
    for code, rep in interp.items():
        if rep not in ("normal", "high", "low", "abnormal", "positive", "negative"):
            ck.problems.append(f"{FILE}: interpretation.map.{code}: unknown reported_as {rep!r}")
    obs = ck.section(data, "observation")
    lc = ck.section(data, "lesion_condition")
    lf = ck.section(data, "lesion_fields")
    keys = {norm(k): v for k, v in (lf.get("keys") or {}).items()}
    for k, v in keys.items():
        if v not in LESION_FIELDS:
            ck.problems.append(f"{FILE}: lesion_fields.keys.{k}: unknown field {v!r} (one of {', '.join(LESION_FIELDS)})")
    hf = ck.section(data, "history_flags")
    flags = {}
    flag_words: dict[str, tuple[str, ...]] = {}
    flag_negations: dict[str, tuple[str, ...]] = {}
    for name in FLAGS:
        sec = hf.get(name)
        if not isinstance(sec, dict):
            ck.problems.append(f"{FILE}: history_flags.{name}: missing")
            continue
        if not sec.get("sources"):
            ck.problems.append(f"{FILE}: history_flags.{name}: no sources")
        flags[name] = ck.matcher(sec, f"history_flags.{name}")
        flag_words[name] = ck.words(sec, "words", f"history_flags.{name}")
        flag_negations[name] = ck.words(sec, "words_not_with", f"history_flags.{name}")
        if flag_words[name] and not flag_negations[name]:
            ck.problems.append(f"{FILE}: history_flags.{name}: words need words_not_with (negation cues)")
    for name in hf:
        if name not in FLAGS:
            ck.problems.append(f"{FILE}: history_flags.{name}: unknown flag (one of {', '.join(FLAGS)})")
    fmh = ck.section(data, "family_history")
    med = ck.section(data, "medications")
    proc = ck.section(data, "procedures")
    dr = ck.section(data, "diagnostic_report")
    out = ck.section(data, "output")
    risk: list[tuple[float, str, str]] = []
    for i, r in enumerate(out.get("qualitative_risk") or []):
        try:
            risk.append((float(r["at_least"]), str(r["code"]), str(r["display"])))
        except (KeyError, TypeError, ValueError):
            ck.problems.append(f"{FILE}: output.qualitative_risk[{i}]: needs at_least, code and display")
    units = {}
    for u, f in (lf.get("size_units_mm") or {}).items():
        if not isinstance(f, (int, float)) or f <= 0:
            ck.problems.append(f"{FILE}: lesion_fields.size_units_mm.{u}: must be a positive number")
        else:
            units[norm(u)] = float(f)
    m = Mappings(
        systems={str(k): str(v) for k, v in systems.items()},
        interpretation={str(k).upper(): str(v) for k, v in interp.items()},
        lab_categories=frozenset(ck.words(obs, "lab_categories", "observation")),
        obs_ignored=frozenset(ck.words(obs, "ignored_statuses", "observation")),
        lesion_condition=ck.matcher(lc, "lesion_condition"),
        lesion_keys=keys,
        yes_words=frozenset(ck.words(lf, "yes_words", "lesion_fields")),
        no_words=frozenset(ck.words(lf, "no_words", "lesion_fields")),
        size_units_mm=units,
        flags=flags,
        flag_words=flag_words,
        flag_word_negations=flag_negations,
        fmh_relevant=ck.words(fmh, "relevant_words", "family_history"),
        fmh_negative=ck.words(fmh, "negative_phrases", "family_history"),
        fmh_ignored=frozenset(ck.words(fmh, "ignored_statuses", "family_history")),
        agent_words=ck.words(med, "calcium_or_phosphate_words", "medications"),
        agent_codes=ck.matcher(med, "medications", prefix_key="calcium_or_phosphate_codes"),
        parenteral_routes=ck.matcher(med, "medications", codes_key="parenteral_routes", prefix_key="-"),
        parenteral_words=ck.words(med, "parenteral_words", "medications"),
        agent_note_phrases=ck.words(med, "agent_note_phrases", "medications"),
        med_ignored=frozenset(ck.words(med, "ignored_statuses", "medications")),
        puncture_words=ck.words(proc, "injection_or_puncture_words", "procedures"),
        proc_ignored=frozenset(ck.words(proc, "ignored_statuses", "procedures")),
        pathology=ck.matcher(dr, "diagnostic_report", codes_key="pathology_codes", prefix_key="-"),
        imaging=ck.matcher(dr, "diagnostic_report", codes_key="imaging_codes", prefix_key="-"),
        pathology_words=ck.words(dr, "pathology_words", "diagnostic_report"),
        imaging_words=ck.words(dr, "imaging_words", "diagnostic_report"),
        report_ignored=frozenset(ck.words(dr, "ignored_statuses", "diagnostic_report")),
        qualitative_risk=tuple(sorted(risk, reverse=True)),
    )
    if ck.problems:
        raise KnowledgeBaseError(ck.problems)
    return m


def check_mappings(data: dict[str, Any]) -> list[str]:
    """Whole-KB validator form (``fn(data) -> problems``), for ``kb/validate.py`` to register."""
    if "fhir_mappings" not in data:
        return [f"{FILE}: missing"]
    try:
        compile_mappings(data["fhir_mappings"])
    except KnowledgeBaseError as exc:
        return list(exc.problems)
    return []


def get_mappings(kb: Any = None) -> Mappings:
    """The compiled mappings of ``kb`` (default: the packaged knowledge base), cached on the KB."""
    if kb is None:
        from calcinosis.kb import load_kb

        kb = load_kb()
    cached = kb.cache.get("fhir_mappings")
    if cached is None:
        data = kb.get("fhir_mappings")
        if data is None:
            raise KnowledgeBaseError([f"{FILE}: missing from the knowledge base"])
        cached = kb.cache["fhir_mappings"] = compile_mappings(data)
    return cached
