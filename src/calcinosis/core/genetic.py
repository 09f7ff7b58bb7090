"""When to think of a genetic cause, which genes to test, and why (PURE: no files, no network, no hpo3).

``features_to_hpo`` turns Findings (coded HPO terms, lexicon concepts, lab flags) into present and excluded
HPO terms through ``genetic.yaml`` and ``concepts_genetic.yaml``. ``genetic_differential`` returns the
"genetic causes" part of an assessment only when a trigger in ``genetic.yaml`` fires; an HPO ranking
computed outside the core (``calcinosis.genetics.rank``) may be handed in to refine the order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calcinosis.core.model import DifferentialItem, Findings

_RANKED_SHARE = 0.4  # how much of a triggered disease's score comes from the HPO ranking, when given
_AGAINST_FACTOR = 0.5  # a knowledge-base finding against the disease halves its score
_RANKING_ONLY = 0.25  # weight of a disease named by the HPO ranking alone


@dataclass(frozen=True, slots=True)
class HpoFeatures:
    """HPO terms with the input fact behind each (``why``), for explanations."""

    present: dict[str, str]
    excluded: dict[str, str]


# ------------------------------------------------------------------------------------------------
# Features -> HPO
# ------------------------------------------------------------------------------------------------


def features_to_hpo(findings: Findings, evidence: Any, readings: Sequence[Any] | None,
                    kb: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(present, excluded) HPO ids for these findings; excluded never repeats a present term."""
    f = hpo_features(findings, evidence, readings, kb)
    return tuple(f.present), tuple(f.excluded)


def hpo_features(findings: Findings, evidence: Any, readings: Sequence[Any] | None, kb: Any) -> HpoFeatures:
    present: dict[str, str] = {}
    excluded: dict[str, str] = {}
    labels = findings.extra.get("hpo_labels") or {}
    for h in findings.hpo_present:
        present.setdefault(h, f"{labels.get(h, h)} ({h}), coded in the input")
    for h in findings.hpo_excluded:
        excluded.setdefault(h, f"{labels.get(h, h)} ({h}), excluded in the input")
    _concepts_to_hpo(findings, evidence, kb, present, excluded)
    for r in _readings(findings, readings, kb):
        for m in (kb.get("genetic") or {}).get("lab_hpo") or []:
            if m["analyte"] == r.analyte and m["flag"] == r.flag:
                what = _reading_fact(r)
                if "present" in m:
                    present.setdefault(m["present"], f"{m['present']} from {what}")
                else:
                    excluded.setdefault(m["excluded"], f"{m['excluded']} absent: {what}")
    for h in list(excluded):
        if h in present:
            del excluded[h]
    return HpoFeatures(present, excluded)


def _reading_fact(r: Any) -> str:
    val = "" if r.value is None or isinstance(r.value, str) else f" ({r.value:g} {r.unit or ''})".rstrip()
    if val and not val.endswith(")"):
        val += ")"
    return f"{r.analyte}: {r.flag}{val}"


@dataclass(frozen=True, slots=True)
class _Reading:
    analyte: str
    flag: str
    value: Any = None
    unit: str | None = None


def _readings(findings: Findings, readings: Sequence[Any] | None, kb: Any) -> list[Any]:
    """The caller's lab readings; without them, a minimal reading of coded labs by their reported words."""
    if readings is not None:
        return list(readings)
    by_loinc = {x["loinc"]: x["analyte"] for x in (kb.get("genetic") or {}).get("lab_loinc") or []}
    out = []
    for lab in findings.labs:
        analyte = by_loinc.get(lab.loinc or "")
        if analyte and lab.reported_as in ("high", "low", "normal"):
            out.append(_Reading(analyte, lab.reported_as, lab.value, lab.unit))
    return out


def _concepts_to_hpo(findings: Findings, evidence: Any, kb: Any, present: dict[str, str],
                     excluded: dict[str, str]) -> None:
    cg = kb.get("concepts_genetic") or {}
    own = {c["id"]: c for c in cg.get("concepts") or []}

    def value(concept: str) -> bool | None:
        # the core's lexicon already reads concepts_genetic.yaml (with its negation rules)
        return evidence.value(concept) if evidence is not None else None

    rules: list[tuple[tuple[str, ...], str, bool]] = []
    for c in own.values():
        for code in c.get("codes") or []:
            if str(code).startswith("hpo:"):
                rules.append(((c["id"],), code[4:], bool(c.get("requires_lesion"))))
    for m in cg.get("hpo_map") or []:
        cs = m["concept"] if isinstance(m["concept"], list) else [m["concept"]]
        rules.append((tuple(cs), m["hpo"], bool(m.get("requires_lesion"))))
    for concepts, hpo, needs_lesion in rules:
        vals = [value(c) for c in concepts]
        if all(v is True for v in vals):
            if needs_lesion and not findings.lesion_described:
                continue
            present.setdefault(hpo, f"{hpo} from {' + '.join(concepts)}")
        elif len(concepts) == 1 and vals[0] is False:
            excluded.setdefault(hpo, f"{hpo} absent: {concepts[0]} denied")


def _cond(when: Mapping[str, Any], findings: Findings, evidence: Any, present: Mapping[str, str],
          readings: list[Any]) -> list[str] | None:
    """Facts that satisfy every condition in ``when``, or None when one fails."""
    facts: list[str] = []
    h = findings.history
    for key, arg in when.items():
        if key == "hpo_any":
            hits = [present[i] for i in arg if i in present]
            if not hits:
                return None
            facts += hits
        elif key == "hpo_min":
            hits = [present[i] for i in arg["ids"] if i in present]
            if len(hits) < arg["n"]:
                return None
            facts += hits
        elif key == "labs_all":
            for want in arg:
                hit = next((r for r in readings if r.analyte == want["analyte"] and r.flag == want["flag"]), None)
                if hit is None:
                    return None
                facts.append(_reading_fact(hit))
        elif key == "family_history":
            fh = h.family_history is True or (evidence is not None and evidence.present("family_history")) \
                or "HP:0032316" in present
            if fh is not arg:
                return None
            facts.append("family history: similar lesions in relatives")
        elif key == "lesion_described":
            if findings.lesion_described is not arg:
                return None
        elif key == "lesion_ulcerated":
            if (findings.lesion.ulcerated is True) is not arg:
                return None
            facts.append("lesions ulcerated")
        elif key == "lesion_inflamed":
            if (findings.lesion.inflammation is True) is not arg:
                return None
            facts.append("lesions inflamed")
        elif key == "onset_before_days":
            if findings.onset_age_days is None or findings.onset_age_days >= arg:
                return None
            facts.append(f"onset at {findings.onset_age_days / 30.4375:.1f} months")
        elif key == "age_before_days":
            if findings.age_days is None or findings.age_days >= arg:
                return None
            facts.append(f"age {findings.age_days / 30.4375:.1f} months")
        elif key == "not_history":
            for fld in arg:
                if getattr(h, fld, None) is True or (evidence is not None and evidence.present(fld)):
                    return None
        elif key == "not_hpo":
            if any(i in present for i in arg):
                return None
        elif key == "not_concepts":
            if evidence is not None and any(evidence.present(c) for c in arg):
                return None
        elif key == "lesion_site_any":
            le = findings.lesion
            text = " ".join([*le.sites, le.description or ""]).lower()
            hits = [w for w in arg if re.search(rf"(?<!\w){re.escape(w)}", text)]
            if not hits:
                return None
            facts.append("lesion site: " + ", ".join(hits))
        elif key == "any_of":
            for sub in arg:
                got = _cond(sub, findings, evidence, present, readings)
                if got is not None:
                    facts += got
                    break
            else:
                return None
        else:  # validated at load; an unknown key never matches
            return None
    return facts


def fired_triggers(findings: Findings, evidence: Any, readings: Sequence[Any] | None,
                   kb: Any, features: HpoFeatures | None = None) -> list[tuple[dict[str, Any], list[str]]]:
    """The triggers of genetic.yaml that hold for these findings, each with the facts it used."""
    g = kb.get("genetic") or {}
    feats = features or hpo_features(findings, evidence, readings, kb)
    rd = _readings(findings, readings, kb)
    out = []
    for t in g.get("triggers") or []:
        facts = _cond(t["when"], findings, evidence, feats.present, rd)
        if facts is not None:
            out.append((t, list(dict.fromkeys(facts))))
    return out


def _against(d: Mapping[str, Any], feats: HpoFeatures) -> list[str]:
    out = [feats.excluded[h] for h in d.get("against_if_excluded") or [] if h in feats.excluded]
    out += [feats.present[h] for h in d.get("against_if_present") or [] if h in feats.present]
    return out


def genetic_differential(findings: Findings, evidence: Any, readings: Sequence[Any] | None, kb: Any,
                         ranking: Sequence[DifferentialItem] | None = None) -> tuple[DifferentialItem, ...]:
    """The genetic causes worth naming (empty unless a trigger fires), best first.

    ``ranking``: DifferentialItems from :func:`calcinosis.genetics.rank.rank_findings` (ids "OMIM:n");
    when given it refines the order of the triggered diseases and adds its top three.
    """
    g = kb.get("genetic") or {}
    feats = hpo_features(findings, evidence, readings, kb)
    fired = fired_triggers(findings, evidence, readings, kb, feats)
    if not fired:
        return ()
    diseases = {d["id"]: d for d in g.get("diseases") or []}
    ranked = {r.id: (i, r) for i, r in enumerate(ranking or ())}
    top = max((r.score for r in ranking or ()), default=0.0) or 1.0
    items: dict[str, DifferentialItem] = {}
    for t, facts in fired:
        for did in t["suggests"]:
            d = diseases[did]
            key = f"OMIM:{d['omim']}"
            score = float(t["weight"])
            fac = [f"{t['label']}: {x}" for x in facts] or [t["label"]]
            fac.insert(0, t["statement"])
            against = _against(d, feats)
            if against:
                score *= _AGAINST_FACTOR
            if key in ranked:
                pos, r = ranked[key]
                score = (1 - _RANKED_SHARE) * score + _RANKED_SHARE * (r.score / top)
                fac.append(f"HPO ranking #{pos + 1} (score {r.score:.3f}): matched " +
                           (", ".join(r.features_for) or "nothing"))
                against += list(r.features_against)
            elif ranking is not None:
                score *= 1 - _RANKED_SHARE
            test = d["tests"] + (f". CAUTION: {t['caution']}" if t.get("caution") else "")
            srcs = tuple(dict.fromkeys([*d.get("sources", []), *t.get("sources", [])]))
            old = items.get(key)
            if old is not None:
                fac = [x for x in old.features_for] + [x for x in fac if x not in old.features_for]
                score = max(score, old.score)
                srcs = tuple(dict.fromkeys([*old.sources, *srcs]))
                test = old.separating_test
                if t.get("caution") and t["caution"] not in test:
                    test += f" CAUTION: {t['caution']}"
            items[key] = DifferentialItem(
                id=key, name=d["name"], score=round(score, 4), kind="genetic", features_for=tuple(fac),
                features_against=tuple(dict.fromkeys(against)), separating_test=test, sources=srcs,
                genes=tuple(d["genes"]))
    for pos, r in enumerate((ranking or ())[:3]):
        if r.id not in items and r.score > 0:
            items[r.id] = DifferentialItem(
                id=r.id, name=r.name, score=round(_RANKING_ONLY * r.score / top, 4),
                kind="genetic", features_for=(f"HPO ranking #{pos + 1} only (no rule of the knowledge base names it)",
                                              *r.features_for),
                features_against=r.features_against, separating_test=r.separating_test,
                sources=r.sources, genes=r.genes)
    return tuple(sorted(items.values(), key=lambda i: (-i.score, i.id)))


def genes_to_test(items: Iterable[DifferentialItem]) -> tuple[str, ...]:
    """Every gene named by the genetic part, in order of first appearance."""
    return tuple(dict.fromkeys(g for i in items for g in i.genes))
