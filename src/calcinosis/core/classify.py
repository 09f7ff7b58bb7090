"""Classification: score each type and mimic from the knowledge base's criteria, pick the most likely,
its subtype and a certainty, with the reasons (input facts + criterion + sources) for each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calcinosis.core.criteria import score
from calcinosis.core.evidence import Evidence
from calcinosis.core.model import Classification, Findings, RankedType, Reason


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str  # "type" | "mimic"
    id: str
    label: str
    score: float
    reasons: tuple[Reason, ...]
    confirmed: bool
    subtype: str | None = None
    subtype_label: str | None = None
    subtype_confirmed: bool = False


def _gated(entry: dict[str, Any], s: float, ev: Evidence) -> float:
    """Scale a score down when none of a gate's required concepts is present (the entity's setting)."""
    gates = entry.get("gate") or []
    for gate in gates if isinstance(gates, list) else [gates]:
        if s > 0 and not any(ev.present(c) for c in gate.get("requires_any") or ()):
            s *= float(gate.get("factor", 0.3))
    return s


def _type_candidate(t: dict[str, Any], ev: Evidence, age: float | None) -> Candidate:
    s, reasons, conf = score(t.get("criteria") or [], ev, age)
    s += float(t.get("base", 0))
    sub_id = sub_label = None
    sub_conf = False
    subs = t.get("subtypes") or []
    scored_subs = [x for x in subs if x.get("criteria")]
    if scored_subs:
        best = None
        for st in scored_subs:
            ss, sr, sc = score(st["criteria"], ev, age)
            ss = _gated(st, ss, ev)
            if best is None or ss > best[0]:
                best = (ss, st, sr, sc)
        assert best is not None
        ss, st, sr, sc = best
        if ss > 0:
            s += ss
            reasons = reasons + sr
            sub_id, sub_label, sub_conf = st["id"], st.get("label"), sc
            conf = conf or sc
    else:
        for st in subs:
            if any(ev.present(c) for c in st.get("when_any") or ()) and not any(
                    ev.present(c) for c in st.get("unless_any") or ()):
                sub_id, sub_label = st["id"], st.get("label")
                break
    s = _gated(t, s, ev)
    return Candidate("type", t["id"], t.get("label", t["id"]), round(s, 3), tuple(reasons), conf,
                     sub_id, sub_label, sub_conf)


def _mimic_candidate(m: dict[str, Any], ev: Evidence, age: float | None) -> Candidate:
    s, reasons, conf = score(m.get("criteria") or [], ev, age)
    return Candidate("mimic", m["id"], m.get("label", m["id"]), round(s, 3), tuple(reasons), conf,
                     m["id"], m.get("label"), conf)


def candidates(f: Findings, ev: Evidence, kb: Any) -> tuple[list[Candidate], list[Candidate]]:
    types = [_type_candidate(t, ev, f.age_days) for t in (kb.data["types"]["types"])]
    mimics = [_mimic_candidate(m, ev, f.age_days) for m in (kb.data["mimics"]["mimics"])]
    mimics.sort(key=lambda c: (-c.score, c.id))
    return types, mimics


def classify(f: Findings, ev: Evidence, kb: Any, types: list[Candidate], mimics: list[Candidate]) -> Classification:
    best_mimic = mimics[0] if mimics else None
    ranked_pairs: list[tuple[str, float, tuple[Reason, ...]]] = [(t.id, t.score, t.reasons) for t in types]
    if best_mimic is not None:
        ranked_pairs.append(("mimic", best_mimic.score, best_mimic.reasons))
    ranked_pairs.sort(key=lambda x: (-x[1], x[0]))
    ranked = tuple(RankedType(t, round(s, 2), r) for t, s, r in ranked_pairs)
    if not f.lesion_described:
        return Classification(
            type=None, subtype=None, subtype_label=None, certainty=None, ranked=ranked, reasons=(),
            summary="No skin or subcutaneous lesion is described in this input, so no type of calcinosis "
                    "cutis is assigned. Describe the lesions (sites, number, size, appearance) to assess them.")
    top_id, top_score, _ = ranked_pairs[0]
    second = ranked_pairs[1][1] if len(ranked_pairs) > 1 else 0.0
    margin = top_score - second
    if top_id == "mimic":
        assert best_mimic is not None
        chosen = best_mimic
    else:
        chosen = next(t for t in types if t.id == top_id)
    ca_p_known_normal = ev.present("ca_p_normal")
    if chosen.confirmed and margin >= 2 and (chosen.id != "idiopathic" or ca_p_known_normal):
        certainty = "confirmed"
    elif top_score >= 3.5 and margin >= 1.5:
        certainty = "probable"
    else:
        certainty = "possible"
    if chosen.id == "idiopathic" and not ca_p_known_normal and certainty != "possible":
        certainty = "possible"  # idiopathic only by exclusion: without calcium and phosphate it stays possible
    positive = tuple(r for r in chosen.reasons if r.weight > 0)
    negative = tuple(r for r in chosen.reasons if r.weight < 0)
    type_label = "mimic (not calcinosis cutis)" if chosen.kind == "mimic" else chosen.id
    sub = f" / {chosen.subtype_label}" if chosen.subtype_label else ""
    summary = f"Most likely {type_label}{sub} ({certainty}); score {top_score:.1f}, next {second:.1f}."
    if chosen.id == "idiopathic":
        summary += " Idiopathic calcinosis is a diagnosis of exclusion: it rests on normal calcium and phosphate and no trigger."
    return Classification(
        type="mimic" if chosen.kind == "mimic" else chosen.id,
        subtype=chosen.subtype,
        subtype_label=chosen.subtype_label,
        certainty=certainty,
        ranked=ranked,
        reasons=positive + negative,
        summary=summary,
    )
