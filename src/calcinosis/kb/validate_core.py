"""Validators of the classification knowledge: types, mimics, lexicon, work-up and management.

Every concept a criterion, gate, plan, red flag or work-up item names must be defined (in a concepts file,
as a structured or lab concept, or as a derived age/size group); ids must be unique; weights numeric;
strategies known. Every problem is reported, naming file and entry.
"""

from __future__ import annotations

from typing import Any

from calcinosis.kb.loader import validator

STRATEGIES = {"watchful_waiting", "medical", "surgical", "treat_underlying_cause", "complete_workup"}
TYPES = {"dystrophic", "metastatic", "idiopathic", "iatrogenic", "calciphylaxis", "mimic"}
# Concepts the core computes itself from structured input (core/evidence.py).
COMPUTED = {"ca_p_normal", "single_lesion", "multiple_lesions", "lesion_described"}


def defined_concepts(data: dict[str, Any]) -> set[str]:
    out = set(COMPUTED)
    for name, content in data.items():
        if (name == "concepts" or name.startswith("concepts_")) and isinstance(content, dict):
            out.update(c.get("id") for c in content.get("concepts") or [] if isinstance(c, dict))
    base = data.get("concepts") or {}
    out.update(r.get("concept") for r in base.get("structured") or [])
    out.update(r.get("concept") for r in base.get("lab_concepts") or [])
    out.update(r.get("borderline_concept") for r in base.get("lab_concepts") or [])
    derived = (data.get("types") or {}).get("derived") or {}
    for group in ("age_groups", "lesion_size"):
        out.update(g.get("id") for g in derived.get(group) or [])
    out.discard(None)
    return out


def _criterion_concepts(crit: dict[str, Any]) -> list[str]:
    names = [crit["concept"]] if "concept" in crit else []
    for key in ("all", "any", "unless"):
        names.extend(crit.get(key) or [])
    return names


def _check_criteria(where: str, criteria: Any, known: set[str], seen: set[str]) -> list[str]:
    out: list[str] = []
    if not isinstance(criteria, list):
        return [f"{where}: criteria must be a list"]
    for i, crit in enumerate(criteria):
        if not isinstance(crit, dict):
            out.append(f"{where}[{i}]: must be a mapping")
            continue
        cid = crit.get("id") or f"#{i}"
        w = f"{where}[{cid}]"
        if "id" not in crit:
            out.append(f"{w}: no id")
        elif cid in seen:
            out.append(f"{w}: duplicate criterion id")
        seen.add(cid)
        if not isinstance(crit.get("weight"), (int, float)) or isinstance(crit.get("weight"), bool):
            out.append(f"{w}: weight must be a number")
        if not any(k in crit for k in ("concept", "all", "any")):
            out.append(f"{w}: names no concept (concept, all or any)")
        if crit.get("when", "present") not in ("present", "absent"):
            out.append(f"{w}: when must be present or absent")
        out += [f"{w}: unknown concept '{c}'" for c in _criterion_concepts(crit) if c not in known]
        if not crit.get("statement"):
            out.append(f"{w}: no statement")
    return out


def _check_gate(where: str, entry: dict[str, Any], known: set[str]) -> list[str]:
    gates = entry.get("gate") or []
    out = []
    for g in gates if isinstance(gates, list) else [gates]:
        out += [f"{where}: gate names unknown concept '{c}'" for c in g.get("requires_any") or [] if c not in known]
    return out


@validator
def classification_knowledge(data: dict[str, Any]) -> list[str]:
    out: list[str] = []
    known = defined_concepts(data)
    seen: set[str] = set()
    entity_ids: set[str] = set()
    types = (data.get("types") or {}).get("types") or []
    for t in types:
        w = f"types.yaml: types[{t.get('id')}]"
        if t.get("id") not in TYPES:
            out.append(f"{w}: unknown type id")
        entity_ids.add(t.get("id"))
        out += _check_criteria(f"{w}.criteria", t.get("criteria") or [], known, seen)
        out += _check_gate(w, t, known)
        own: set[str] = set()
        for st in t.get("subtypes") or []:
            sw = f"{w}.subtypes[{st.get('id')}]"
            # an id may repeat within one type (a second, lower-priority condition), never across types
            if st.get("id") in entity_ids and st.get("id") not in own:
                out.append(f"{sw}: subtype id already used elsewhere")
            own.add(st.get("id"))
            entity_ids.add(st.get("id"))
            if "criteria" in st:
                out += _check_criteria(f"{sw}.criteria", st["criteria"], known, seen)
            out += [f"{sw}: unknown concept '{c}'" for c in st.get("when_any") or [] if c not in known]
            out += [f"{sw}: unknown concept '{c}' in unless_any" for c in st.get("unless_any") or [] if c not in known]
            out += _check_gate(sw, st, known)
            if not st.get("sources"):
                out.append(f"{sw}: no sources")
    mimics = (data.get("mimics") or {}).get("mimics") or []
    mimic_ids = set()
    for m in mimics:
        w = f"mimics.yaml: mimics[{m.get('id')}]"
        if m.get("id") in mimic_ids:
            out.append(f"{w}: duplicate id")
        mimic_ids.add(m.get("id"))
        entity_ids.add(m.get("id"))
        if not m.get("separating_test"):
            out.append(f"{w}: no separating test")
        out += _check_criteria(f"{w}.criteria", m.get("criteria") or [], known, seen)
    for i, rule in enumerate((data.get("mimics") or {}).get("always_consider") or []):
        out += [f"mimics.yaml: always_consider[{i}]: unknown mimic '{x}'" for x in rule.get("mimics") or []
                if x not in mimic_ids]
    out += _check_workup(data, known, entity_ids)
    out += _check_management(data, known, entity_ids)
    out += _check_concepts(data, known)
    return out


def _check_concepts(data: dict[str, Any], known: set[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for name, content in sorted(data.items()):
        if not (name == "concepts" or name.startswith("concepts_")) or not isinstance(content, dict):
            continue
        for c in content.get("concepts") or []:
            w = f"{name}.yaml: concepts[{c.get('id')}]"
            if c.get("id") in seen:
                out.append(f"{w}: duplicate concept id")
            seen.add(c.get("id"))
            out += [f"{w}: implies unknown concept '{x}'" for x in c.get("implies") or [] if x not in known]
            for p in c.get("patterns") or []:
                if not isinstance(p, str) or not p.strip():
                    out.append(f"{w}: empty or non-text pattern {p!r}")
        rs = content.get("report_sentences")
        if rs is not None:
            if not isinstance(rs, dict):
                out.append(f"{name}.yaml: report_sentences: must be a mapping")
                continue
            for group, cues in rs.items():
                if group == "sources":
                    continue
                if group not in ("histology", "imaging"):
                    out.append(f"{name}.yaml: report_sentences: unknown group '{group}' (histology or imaging)")
                for p in cues or []:
                    if not isinstance(p, str) or not p.strip():
                        out.append(f"{name}.yaml: report_sentences.{group}: empty or non-text pattern {p!r}")
            if not rs.get("sources"):
                out.append(f"{name}.yaml: report_sentences: no sources")
    return out


def _check_workup(data: dict[str, Any], known: set[str], entities: set[str]) -> list[str]:
    out: list[str] = []
    analytes = {a.get("id") for a in (data.get("analytes") or {}).get("analytes") or []}
    items = (data.get("workup") or {}).get("items") or []
    ids = {i.get("id") for i in items}
    out += [f"workup.yaml: core_labs: unknown item '{x}'" for x in (data.get("workup") or {}).get("core_labs") or []
            if x not in ids]
    for item in items:
        w = f"workup.yaml: items[{item.get('id')}]"
        for key in ("label", "why", "would_change"):
            if not item.get(key):
                out.append(f"{w}: no {key}")
        for key in ("essential_for", "recommended_for"):
            out += [f"{w}: {key} names unknown type, subtype or mimic '{x}'" for x in item.get(key) or []
                    if x not in entities]
        out += [f"{w}: unknown analyte '{x}'" for x in item.get("analytes") or [] if analytes and x not in analytes]
        out += [f"{w}: unknown concept '{x}'" for x in (item.get("satisfied_by_concepts") or [])
                + (item.get("when_all") or []) if x not in known]
    return out


def _check_management(data: dict[str, Any], known: set[str], entities: set[str]) -> list[str]:
    out: list[str] = []
    mg = data.get("management") or {}
    follow = mg.get("follow_up") or {}
    courses = mg.get("expected_course") or {}
    out += [f"management.yaml: secondary_causes: unknown concept '{c}'"
            for c in (mg.get("secondary_causes") or {}).get("concepts") or [] if c not in known]
    for rf in mg.get("red_flags") or []:
        out += [f"management.yaml: red_flags[{rf.get('id')}]: unknown concept '{c}'"
                for c in rf.get("concepts") or [] if c not in known]
    plans = mg.get("plans") or []
    if not plans or (plans[-1].get("match") or {}) != {}:
        out.append("management.yaml: plans: the last plan must be a fallback with an empty match")
    for p in plans:
        w = f"management.yaml: plans[{p.get('id')}]"
        m = p.get("match") or {}
        if "type" in m and m["type"] not in TYPES:
            out.append(f"{w}: unknown type '{m['type']}'")
        if "subtype" in m and m["subtype"] not in entities:
            out.append(f"{w}: unknown subtype '{m['subtype']}'")
        out += [f"{w}: unknown concept '{c}'" for c in m.get("requires_any") or [] if c not in known]
        for key in ("strategy", "if_red_flag"):
            if key in p and p[key] not in STRATEGIES:
                out.append(f"{w}: unknown {key} '{p[key]}'")
        if p.get("follow_up") and p["follow_up"] not in follow:
            out.append(f"{w}: unknown follow-up schedule '{p['follow_up']}'")
        if p.get("course") and p["course"] not in courses:
            out.append(f"{w}: unknown expected course '{p['course']}'")
        if not p.get("sources"):
            out.append(f"{w}: no sources")
    return out
