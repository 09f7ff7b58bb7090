"""Turn Findings into concept facts through the knowledge base's lexicon (three-valued, with provenance).

A concept (``kb/data/concepts*.yaml``) is found in the input's free text and coded fields; a negated
mention ("no evidence of Down syndrome") makes it explicitly absent; silence leaves it unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from calcinosis.core.labs import interval_span
from calcinosis.core.model import DerivedValue, Findings, LabReading


@dataclass(frozen=True, slots=True)
class Fact:
    concept: str
    present: bool  # True = present, False = explicitly absent
    evidence: tuple[str, ...]  # the input facts, e.g. 'histology: "features of tumoral calcinosis"'


@dataclass(frozen=True, slots=True)
class Evidence:
    facts: dict[str, Fact]

    def present(self, concept: str) -> bool:
        f = self.facts.get(concept)
        return f is not None and f.present

    def absent(self, concept: str) -> bool:
        f = self.facts.get(concept)
        return f is not None and not f.present

    def known(self, concept: str) -> bool:
        return concept in self.facts

    def value(self, concept: str) -> bool | None:
        f = self.facts.get(concept)
        return None if f is None else f.present


# ------------------------------------------------------------------------------------------------
# Lexicon compilation (once per knowledge base, cached in kb.cache) and text matching.
# ------------------------------------------------------------------------------------------------


_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
ALL_FIELDS = ("lesion", "sites", "conditions", "histology", "imaging", "labs")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    d = "".join(x for x in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(x))
    return d if len(d) == 1 else ch


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one ("Teutschländer" -> "teutschlander",
    "Grönblad" -> "gronblad", "Münchmeyer" -> "munchmeyer"), so offsets into the text stay valid."""
    low = text.lower()
    return low if low.isascii() else "".join(_fold_char(ch) for ch in low)


def _pattern_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for p in patterns:
        p = fold(str(p)).strip()
        if not p:
            continue
        esc = re.escape(p).replace(r"\*", r"[\w-]*").replace(r"\ ", r"\s+")
        parts.append(esc)
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w])")


@dataclass(frozen=True, slots=True)
class _Concept:
    id: str
    fields: frozenset[str]
    rx: re.Pattern[str] | None
    absent_rx: re.Pattern[str] | None
    except_rx: re.Pattern[str] | None  # longer phrases that contain a pattern but do not mean the concept
    implies: tuple[str, ...]
    keys: frozenset[str]  # prefilter: first-word prefixes (at most _K letters) of every pattern


_K = 4
_TOKEN = re.compile(r"[a-z0-9]+")


def _keys(patterns: Iterable[str]) -> frozenset[str]:
    out = set()
    for p in patterns:
        toks = _TOKEN.findall(str(p).lower().split("*")[0]) if str(p).lower().split("*")[0] else []
        if not toks:
            out.add("")  # cannot prefilter this pattern: always try it
            continue
        out.add(toks[0][:_K])
    return frozenset(out)


def _text_keys(text: str, short: frozenset[str] = frozenset()) -> set[str]:
    """Prefilter keys of a text: each word's first _K letters, and its shorter prefixes that some
    pattern uses as a key (``short``)."""
    keys = {""}
    for w in set(_TOKEN.findall(text)):
        keys.add(w[:_K])
        if short:
            for k in range(1, min(len(w), _K)):
                if w[:k] in short:
                    keys.add(w[:k])
    return keys


@dataclass(frozen=True, slots=True)
class Lexicon:
    concepts: tuple[_Concept, ...]
    by_code: dict[str, tuple[str, ...]]  # "hpo:HP:0000083" -> concept ids
    pre_neg: re.Pattern[str]
    post_neg: re.Pattern[str]
    uncertain: re.Pattern[str]
    uncertain_post: re.Pattern[str]
    terminators: re.Pattern[str]
    window: int
    implies: dict[str, tuple[str, ...]]
    key_index: dict[str, tuple[int, ...]]  # prefilter key -> indexes of the concepts that may match
    short_keys: frozenset[str]  # keys shorter than _K letters
    structured: tuple[dict[str, Any], ...]
    lab_concepts: tuple[dict[str, Any], ...]
    age_groups: tuple[dict[str, Any], ...]
    size_groups: tuple[dict[str, Any], ...]
    report_cues: tuple[tuple[str, re.Pattern[str]], ...] = ()  # (histology|imaging, cue) for report sentences


def _all_concept_entries(kb: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in sorted(kb.data):
        if name == "concepts" or name.startswith("concepts_"):
            out.extend((kb.data[name] or {}).get("concepts", []) or [])
    return out


def lexicon(kb: Any) -> Lexicon:
    lex = kb.cache.get("lexicon")
    if lex is not None:
        return lex
    base = kb.data.get("concepts") or {}
    neg = base.get("negation") or {}
    concepts = []
    by_code: dict[str, list[str]] = {}
    implies: dict[str, tuple[str, ...]] = {}
    for c in _all_concept_entries(kb):
        fields = frozenset(c.get("fields") or ALL_FIELDS)
        concepts.append(_Concept(
            id=c["id"], fields=fields, rx=_pattern_regex(c.get("patterns") or []),
            absent_rx=_pattern_regex(c.get("absent_patterns") or []),
            except_rx=_pattern_regex(c.get("except_patterns") or []), implies=tuple(c.get("implies") or ()),
            keys=_keys(list(c.get("patterns") or []) + list(c.get("absent_patterns") or []))))
        implies[c["id"]] = tuple(c.get("implies") or ())
        for code in c.get("codes") or []:
            by_code.setdefault(str(code).lower(), []).append(c["id"])
    words = lambda key: _pattern_regex(neg.get(key) or [])  # noqa: E731
    term_parts = [re.escape(t) for t in (neg.get("terminators") or [".", ";"])]
    derived = (kb.data.get("types") or {}).get("derived") or {}
    key_index: dict[str, list[int]] = {}
    for i, c in enumerate(concepts):
        for k in c.keys:
            key_index.setdefault(k, []).append(i)
    rs = base.get("report_sentences") or {}
    report_cues = tuple((g, rx) for g in ("histology", "imaging")
                        if (rx := _pattern_regex(rs.get(g) or [])) is not None)
    lex = Lexicon(
        report_cues=report_cues,
        concepts=tuple(concepts),
        key_index={k: tuple(v) for k, v in key_index.items()},
        short_keys=frozenset(k for k in key_index if 0 < len(k) < _K),
        by_code={k: tuple(v) for k, v in by_code.items()},
        pre_neg=words("pre") or re.compile(r"(?!x)x"),
        post_neg=words("post") or re.compile(r"(?!x)x"),
        uncertain=words("uncertain_pre") or re.compile(r"(?!x)x"),
        uncertain_post=words("uncertain_post") or re.compile(r"(?!x)x"),
        terminators=re.compile("|".join(term_parts)),
        window=int(neg.get("window", 7)),
        implies=implies,
        structured=tuple(base.get("structured") or ()),
        lab_concepts=tuple(base.get("lab_concepts") or ()),
        age_groups=tuple(derived.get("age_groups") or ()),
        size_groups=tuple(derived.get("lesion_size") or ()),
    )
    kb.cache["lexicon"] = lex
    return lex


_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=\S)")


def _report_sentences(lex: Lexicon, label: str, text: str) -> list[tuple[str, str, str]]:
    """The sentences of a lesion description that report a biopsy, cytology or imaging result,
    to be read again as histology / imaging (``report_sentences`` in concepts.yaml)."""
    out: list[tuple[str, str, str]] = []
    if not lex.report_cues:
        return out
    for sentence in _SENTENCE_END.split(text):
        low = sentence.lower()
        for group, rx in lex.report_cues:
            if rx.search(low):
                out.append((group, label, sentence))
    return out


def _texts(f: Findings, lex: Lexicon | None = None) -> list[tuple[str, str, str]]:
    """(field group, label for reasons, lower-cased text) for every free-text fact of the input; with a lexicon,
    also the report sentences of the lesion description as histology / imaging."""
    out: list[tuple[str, str, str]] = []
    le, h = f.lesion, f.history
    if le.description:
        out.append(("lesion", "lesion description", le.description))
    for s in le.sites:
        out.append(("sites", "lesion site", s))
    if h.connective_tissue_disease:
        out.append(("conditions", "connective tissue disease", h.connective_tissue_disease))
    if h.prior_injection_or_infusion:
        out.append(("conditions", "prior injection or infusion", h.prior_injection_or_infusion))
    for c in h.other_conditions:
        out.append(("conditions", "condition", c))
    for m in h.medications:
        out.append(("conditions", "medication", m))
    for p in h.procedures:
        out.append(("conditions", "procedure", p))
    if f.histology:
        out.append(("histology", "histology", f.histology))
    if f.imaging:
        out.append(("imaging", "imaging", f.imaging))
    if lex is not None:
        for group, label, text in list(out):
            if group == "lesion":  # a condition's own biopsy ("nephritis on renal biopsy") is not the lesion's
                out.extend(_report_sentences(lex, label, text))
    for lab in f.labs:
        if isinstance(lab.value, str):
            out.append(("labs", f"lab {lab.analyte}", f"{lab.analyte}: {lab.value}"))
        if lab.note:
            out.append(("labs", f"lab {lab.analyte} note", lab.note))
    return [(g, lbl, fold(t)) for g, lbl, t in out]


def _polarity(lex: Lexicon, text: str, start: int, end: int) -> bool | None:
    """True (affirmed), False (negated) or None (uncertain) for a match at text[start:end]."""
    # the clause around the match
    left = text[:start]
    cut = 0
    for m in lex.terminators.finditer(left):
        cut = m.end()
    clause_left = left[cut:]
    words_left = _WORD.findall(clause_left)[-lex.window:]
    # a negation that is the prefix of a hyphenated word ("non-tender", "un-") negates that word only, not
    # the words after it ("firm, non-tender lumps" affirms the lumps)
    window_text = " ".join(w for w in words_left if not _NEG_PREFIXED.match(w))
    if lex.uncertain.search(window_text):
        return None
    if lex.pre_neg.search(window_text):
        return False
    if clause_left.rstrip().endswith(("non-", "un")) or text[max(0, start - 4):start] in ("non-", "non "):
        return False
    right = text[end:]
    m = lex.terminators.search(right)
    clause_right = right[: m.start()] if m else right
    right = _WORD.findall(clause_right)
    # a cue after a coordinated alternative covers both ("an epidermal cyst or a suture granuloma was
    # suspected", "X or Y was excluded"): the window reaches over the alternative
    n_hedge, n_neg = (lex.window, lex.window) if right and right[0] in _COORD else (5, 4)
    if lex.uncertain_post.search(" ".join(right[:n_hedge])):  # "X could not be excluded", "X was suspected"
        return None
    if lex.post_neg.search(" ".join(right[:n_neg])):
        return False
    return True


def _quote(label: str, text: str, start: int, end: int) -> str:
    a = max(0, start - 40)
    b = min(len(text), end + 40)
    snippet = ("…" if a else "") + text[a:b].strip() + ("…" if b < len(text) else "")
    return f'{label}: "{snippet}"'


_COORD = frozenset({"or", "nor"})  # alternatives: a cue after "X or Y" covers X too ("and" does not: "nodules and calcium was normal")

_NEG_PREFIXED = re.compile(r"^(?:non|un|not|no)-[a-z]")

_MEMO_MAX = 100_000  # memoised texts per knowledge base; cleared when full


def _text_hits(lex: Lexicon, group: str, label: str, text: str) -> tuple[tuple[int, bool, str], ...]:
    """(concept index, affirmed?, quote) for every concept mention in one text, by concept then position.
    A pure function of the lexicon and the text, so :func:`extract` memoises it (a chart's coded displays,
    lab names and notes recur from patient to patient)."""
    hits: list[tuple[int, bool, str]] = []
    idx = lex.key_index
    for ci in sorted({ci for k in _text_keys(text, lex.short_keys) for ci in idx.get(k, ())}):
        c = lex.concepts[ci]
        if group not in c.fields:
            continue
        absent = list(c.absent_rx.finditer(text)) if c.absent_rx is not None else []
        hits.extend((ci, False, _quote(label, text, a.start(), a.end())) for a in absent)
        if c.rx is None:
            continue
        excepted = list(c.except_rx.finditer(text)) if c.except_rx is not None else []
        for m in c.rx.finditer(text):
            if any(a.start() <= m.start() < a.end() for a in absent):
                continue
            if any(x.start() <= m.start() < x.end() for x in excepted):
                continue  # inside a phrase that does not mean the concept ("caseous necrosis")
            pol = _polarity(lex, text, m.start(), m.end())
            if pol is not None:
                hits.append((ci, pol, _quote(label, text, m.start(), m.end())))
    return tuple(hits)


def extract(f: Findings, readings: Iterable[LabReading] = (), derived: Iterable[DerivedValue] = (),
            kb: Any = None) -> Evidence:
    """Concept facts from the input's text, coded fields, structured booleans, labs, age and size."""
    lex = lexicon(kb)
    texts = _texts(f, lex)
    denied = [t.lower() for t in f.denied]
    pos_by: dict[int, list[str]] = {}  # concept index -> quotes, in text order
    neg_by: dict[int, list[str]] = {}
    memo = kb.cache.setdefault("text_hits", {})
    for key in texts:
        hits = memo.get(key)
        if hits is None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            hits = memo[key] = _text_hits(lex, *key)
        for ci, present, quote in hits:
            (pos_by if present else neg_by).setdefault(ci, []).append(quote)
    if denied:
        for ci in sorted({ci for k in _text_keys(" ".join(denied), lex.short_keys) for ci in lex.key_index.get(k, ())}):
            rx = lex.concepts[ci].rx
            if rx is not None:
                for d in denied:
                    if rx.search(d):
                        neg_by.setdefault(ci, []).append(f'denied: "{d}"')
    pos: dict[str, list[str]] = {}
    neg: dict[str, list[str]] = {}
    for by, out in ((neg_by, neg), (pos_by, pos)):
        for ci in sorted(by):
            out.setdefault(lex.concepts[ci].id, []).extend(by[ci])
    # coded facts
    for code in f.hpo_present:
        for cid in lex.by_code.get(f"hpo:{code}".lower(), ()):
            pos.setdefault(cid, []).append(f"HPO {code} present")
    for code in f.hpo_excluded:
        for cid in lex.by_code.get(f"hpo:{code}".lower(), ()):
            neg.setdefault(cid, []).append(f"HPO {code} excluded")
    for cd in f.codes_present:
        for cid in lex.by_code.get(f"{cd.system}:{cd.code}".lower(), ()):
            pos.setdefault(cid, []).append(f"{cd.system} {cd.code} {cd.display or ''}".strip())
    for cd in f.codes_absent:
        for cid in lex.by_code.get(f"{cd.system}:{cd.code}".lower(), ()):
            neg.setdefault(cid, []).append(f"{cd.system} {cd.code} refuted")

    facts: dict[str, Fact] = {}

    def put(cid: str, present: bool, ev: list[str] | tuple[str, ...]) -> None:
        old = facts.get(cid)
        if old is not None and old.present and not present:
            return  # an affirmed mention wins over a negated one elsewhere
        if old is not None and old.present == present:
            ev = tuple(old.evidence) + tuple(e for e in ev if e not in old.evidence)
        facts[cid] = Fact(cid, present, tuple(ev)[:4])

    for cid, ev in neg.items():
        put(cid, False, ev)
    for cid, ev in pos.items():
        put(cid, True, ev)

    # structured booleans (they override text when stated)
    for rule in lex.structured:
        if "field" in rule:
            obj: Any = f
            for part in rule["field"].split("."):
                obj = getattr(obj, part, None)
            if isinstance(obj, bool):
                label = rule["field"].replace("history.", "").replace("lesion.", "")
                if obj:
                    facts[rule["concept"]] = Fact(rule["concept"], True, (f"{label}: yes",))
                elif not (rule["concept"] in facts and facts[rule["concept"]].present):
                    facts[rule["concept"]] = Fact(rule["concept"], False, (f"{label}: no",))
        elif "from_concept" in rule:
            src = facts.get(rule["from_concept"])
            if src is not None and (rule["concept"] not in facts or src.present):
                put(rule["concept"], src.present, src.evidence)
    # connective tissue disease named only in its own field
    if f.history.connective_tissue_disease and "connective_tissue_disease" not in facts:
        put("connective_tissue_disease", True, (f'connective tissue disease: "{f.history.connective_tissue_disease}"',))

    # labs
    borderline: set[int] = set()  # readings read as borderline (see _borderline)
    for rule in lex.lab_concepts:
        flags = set(rule.get("flags") or ())
        if "derived" in rule:
            for d in derived:
                if d.id == rule["derived"] and d.flag in flags:
                    put(rule["concept"], True, (f"{d.label} {d.value:g} {d.unit} ({d.flag})",))
            continue
        wanted = set(rule.get("analytes") or ())
        labels = set(rule.get("labels") or ())  # optional: only these forms of the analyte (by their label)
        for r in readings:
            if r.analyte in wanted and r.flag in flags and (not labels or r.label in labels):
                val = f"{r.value:g} {r.unit or ''}".strip() if isinstance(r.value, (int, float)) else (r.reported_as or "")
                if rule.get("borderline_concept") and _borderline(r, f, kb):
                    # abnormal for the preferred source, normal for another cited one: not the concept itself
                    borderline.add(id(r))
                    put(rule["borderline_concept"], True, (
                        f"lab {r.reported_name}: {val} ({r.flag} for {r.interval.source if r.interval else 'the interval'}, "
                        "but inside another cited source's interval for this age: borderline)",))
                    continue
                put(rule["concept"], True, (f"lab {r.reported_name}: {val} ({r.flag})",))
    # calcium and phosphate both measured and normal (a borderline reading counts as neither)
    ca = _status([r for r in readings if id(r) not in borderline], ("calcium_total", "calcium_ionized"))
    if ca == "not_measured" and any(id(r) in borderline for r in readings):
        ca = "borderline"
    p = _status(readings, ("phosphate",))
    if ca == "normal" and p == "normal":
        put("ca_p_normal", True, ("calcium normal", "phosphate normal"))
    elif ca in ("high", "low") or p in ("high", "low"):
        put("ca_p_normal", False, (f"calcium {ca}", f"phosphate {p}"))

    # implied concepts (transitively)
    changed = True
    while changed:
        changed = False
        for cid, fact in list(facts.items()):
            if not fact.present:
                continue
            for imp in lex.implies.get(cid, ()):
                if imp not in facts or not facts[imp].present:
                    facts[imp] = Fact(imp, True, fact.evidence)
                    changed = True

    # age groups and lesion size / count
    if f.age_days is not None:
        for g in lex.age_groups:
            ok = f.age_days >= g.get("min_days", 0) and f.age_days < g.get("max_days", float("inf"))
            facts[g["id"]] = Fact(g["id"], ok, (f"age {f.age_days / 30.4375:.1f} months",))
    if f.lesion.max_size_mm is not None:
        for g in lex.size_groups:
            ok = f.lesion.max_size_mm >= g.get("min_mm", 0) and f.lesion.max_size_mm < g.get("max_mm", float("inf"))
            facts[g["id"]] = Fact(g["id"], ok, (f"largest lesion {f.lesion.max_size_mm:g} mm",))
    n = f.lesion.count
    sites = f.lesion.sites
    if n is not None:
        facts["single_lesion"] = Fact("single_lesion", n == 1, (f"lesion count: {n}",))
        facts["multiple_lesions"] = Fact("multiple_lesions", n > 1, (f"lesion count: {n}",))
    elif f.lesion.count_text:
        multi = bool(re.search(r"multiple|several|many|numerous|\bplural|\d", f.lesion.count_text.lower()))
        if multi:
            facts["multiple_lesions"] = Fact("multiple_lesions", True, (f"lesion count: {f.lesion.count_text}",))
            facts["single_lesion"] = Fact("single_lesion", False, (f"lesion count: {f.lesion.count_text}",))
    elif len(sites) > 1:
        facts["multiple_lesions"] = Fact("multiple_lesions", True, (f"{len(sites)} lesion sites",))
        facts["single_lesion"] = Fact("single_lesion", False, (f"{len(sites)} lesion sites",))
    elif f.lesion.description:
        d = f.lesion.description.lower()
        if re.search(r"\b(a single|single|solitary|one|an isolated|isolated)\b", d):
            facts.setdefault("single_lesion", Fact("single_lesion", True, ('lesion description: "single"',)))
        elif re.search(r"\b(multiple|several|numerous|many|two|three|four|five|clusters?)\b", d):
            facts.setdefault("multiple_lesions", Fact("multiple_lesions", True, ('lesion description: "multiple"',)))
    if f.lesion_described:
        facts["lesion_described"] = Fact("lesion_described", True, ("a skin lesion is described",))
    return Evidence(facts)


def _borderline(r: LabReading, f: Findings, kb: Any) -> bool:
    """A number flagged against the knowledge base's preferred interval for age that lies inside the widest
    interval of all the sources it cites for that age (labs.interval_span): the sources disagree about it.
    The report's own flag and the reporting laboratory's interval are kept as they are."""
    if kb is None or r.flag_basis != "value_vs_interval" or r.value_si is None or r.interval is None:
        return False
    span = interval_span(r.analyte, f.age_days, f.sex, kb)
    if span is None:
        return False
    low, high = span
    if r.flag == "high":
        return high is not None and r.value_si <= high
    if r.flag == "low":
        return low is not None and r.value_si >= low
    return False


def _status(readings: Iterable[LabReading], analytes: tuple[str, ...]) -> str:
    flags = [r.flag for r in readings if r.analyte in analytes]
    for fl in ("high", "low", "abnormal"):
        if fl in flags:
            return fl
    if "normal" in flags:
        return "normal"
    return "not_measured"
