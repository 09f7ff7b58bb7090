"""Validator of the genetic knowledge (genetic.yaml, concepts_genetic.yaml); reports every problem at once."""

from __future__ import annotations

import re
from typing import Any

from calcinosis.kb.loader import validator

HPO_ID = re.compile(r"^HP:\d{7}$")
WHEN_KEYS = frozenset({
    "hpo_any", "hpo_min", "labs_all", "family_history", "lesion_described", "onset_before_days",
    "age_before_days", "not_history", "any_of", "lesion_ulcerated", "lesion_inflamed", "not_concepts", "not_hpo",
    "lesion_site_any",
})
LAB_FLAGS = frozenset({"normal", "high", "low", "abnormal", "positive", "negative"})


def _hpo_problems(where: str, ids: Any) -> list[str]:
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids:
        return [f"{where}: must be a non-empty list of HPO ids"]
    return [f"{where}: {i!r} is not an HPO id (HP:nnnnnnn)" for i in ids if not HPO_ID.match(str(i))]


def _when_problems(where: str, when: Any) -> list[str]:
    if not isinstance(when, dict) or not when:
        return [f"{where}: must be a non-empty mapping of conditions"]
    out = [f"{where}: unknown condition {k!r} (known: {', '.join(sorted(WHEN_KEYS))})"
           for k in when if k not in WHEN_KEYS]
    if "hpo_any" in when:
        out += _hpo_problems(f"{where}.hpo_any", when["hpo_any"])
    if "hpo_min" in when:
        hm = when["hpo_min"]
        if not isinstance(hm, dict) or not isinstance(hm.get("n"), int):
            out.append(f"{where}.hpo_min: needs n (integer) and ids")
        else:
            out += _hpo_problems(f"{where}.hpo_min.ids", hm.get("ids"))
    for i, lab in enumerate(when.get("labs_all") or []):
        if not isinstance(lab, dict) or not lab.get("analyte") or lab.get("flag") not in LAB_FLAGS:
            out.append(f"{where}.labs_all[{i}]: needs analyte and a flag in {sorted(LAB_FLAGS)}")
    for i, sub in enumerate(when.get("any_of") or []):
        out += _when_problems(f"{where}.any_of[{i}]", sub)
    return out


def _check_diseases(g: dict[str, Any]) -> tuple[list[str], set[str]]:
    out: list[str] = []
    ids: set[str] = set()
    for i, d in enumerate(g.get("diseases") or []):
        did = d.get("id") if isinstance(d, dict) else None
        where = f"genetic.yaml: diseases[{did or i}]"
        if not did:
            out.append(f"{where}: no id")
            continue
        if did in ids:
            out.append(f"{where}: duplicate id")
        ids.add(did)
        if not isinstance(d.get("omim"), int):
            out.append(f"{where}: omim must be an integer MIM number")
        if not d.get("name"):
            out.append(f"{where}: no name")
        if not d.get("genes") or not all(isinstance(x, str) and x for x in d["genes"]):
            out.append(f"{where}: genes must list at least one gene symbol")
        if not d.get("tests"):
            out.append(f"{where}: no tests (what separates it)")
        if not d.get("sources"):
            out.append(f"{where}: no sources")
    if not ids:
        out.append("genetic.yaml: diseases: empty")
    return out, ids


def _check_triggers(g: dict[str, Any], disease_ids: set[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, t in enumerate(g.get("triggers") or []):
        tid = t.get("id") if isinstance(t, dict) else None
        where = f"genetic.yaml: triggers[{tid or i}]"
        if not tid:
            out.append(f"{where}: no id")
            continue
        if tid in seen:
            out.append(f"{where}: duplicate id")
        seen.add(tid)
        out += _when_problems(f"{where}.when", t.get("when"))
        for s in t.get("suggests") or []:
            if s not in disease_ids:
                out.append(f"{where}: suggests unknown disease {s!r}")
        if not t.get("suggests"):
            out.append(f"{where}: suggests no disease")
        w = t.get("weight")
        if not isinstance(w, (int, float)) or not 0 < w <= 1:
            out.append(f"{where}: weight must be a number in (0, 1]")
        if not t.get("statement"):
            out.append(f"{where}: no statement")
        if not t.get("sources"):
            out.append(f"{where}: no sources")
    return out


def _check_tables(g: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for i, m in enumerate(g.get("lab_hpo") or []):
        where = f"genetic.yaml: lab_hpo[{i}]"
        if ("present" in m) == ("excluded" in m):
            out.append(f"{where}: give exactly one of present / excluded")
        out += _hpo_problems(where, m.get("present") or m.get("excluded"))
        if m.get("flag") not in LAB_FLAGS or not m.get("analyte"):
            out.append(f"{where}: needs analyte and a known flag")
        if not m.get("sources"):
            out.append(f"{where}: no sources")
    r = g.get("ranking") or {}
    sim = r.get("similarity") or {}
    if not {"kind", "method", "combine"} <= set(sim):
        out.append("genetic.yaml: ranking.similarity: needs kind, method and combine")
    roots = [x.get("id") for x in r.get("candidate_roots") or [] if isinstance(x, dict)]
    out += _hpo_problems("genetic.yaml: ranking.candidate_roots", roots)
    pp = g.get("phenopacket") or {}
    out += _hpo_problems("genetic.yaml: phenopacket.lesion_terms", pp.get("lesion_terms"))
    return out


def _check_concepts(c: Any) -> list[str]:
    out: list[str] = []
    if not isinstance(c, dict):
        return ["concepts_genetic.yaml: must be a mapping with concepts and hpo_map"]
    seen: set[str] = set()
    for i, e in enumerate(c.get("concepts") or []):
        cid = e.get("id") if isinstance(e, dict) else None
        where = f"concepts_genetic.yaml: concepts[{cid or i}]"
        if not cid:
            out.append(f"{where}: no id")
            continue
        if cid in seen:
            out.append(f"{where}: duplicate id")
        seen.add(cid)
        hpo = [x[4:] for x in e.get("codes") or [] if str(x).startswith("hpo:")]
        out += _hpo_problems(f"{where}.codes (hpo:...)", hpo)
        pats = e.get("patterns")
        if not isinstance(pats, list) or not pats or any(p != str(p).lower() for p in pats):
            out.append(f"{where}: patterns must be a non-empty list of lower-case phrases")
        if not e.get("sources"):
            out.append(f"{where}: no sources")
    maps = c.get("hpo_map")
    if not isinstance(maps, list) or not maps:
        out.append("concepts_genetic.yaml: hpo_map: must be a non-empty list")
        maps = []
    for i, m in enumerate(maps):
        where = f"concepts_genetic.yaml: hpo_map[{i}]"
        if not isinstance(m, dict) or not m.get("concept"):
            out.append(f"{where}: needs concept")
            continue
        out += _hpo_problems(f"{where}.hpo", m.get("hpo"))
        if not m.get("sources"):
            out.append(f"{where}: no sources")
    return out


@validator
def genetic_knowledge(data: dict[str, Any]) -> list[str]:
    """genetic.yaml and concepts_genetic.yaml: ids, HPO ids, disease references, conditions and sources."""
    g = data.get("genetic")
    if g is None:
        return []  # the genetic area is optional for a knowledge base
    if not isinstance(g, dict):
        return ["genetic.yaml: must be a mapping"]
    problems, disease_ids = _check_diseases(g)
    problems += _check_triggers(g, disease_ids)
    problems += _check_tables(g)
    if "concepts_genetic" in data:
        problems += _check_concepts(data["concepts_genetic"])
    return problems
