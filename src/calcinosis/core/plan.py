"""The management plan, by type/subtype/age from the knowledge base, under the safety rule:
watchful waiting is never advised while a secondary cause is present or not yet excluded."""

from __future__ import annotations

from typing import Any

from calcinosis.core.evidence import Evidence
from calcinosis.core.model import Classification, Findings, FollowUp, Plan, Reason, TreatmentOption, WorkupItem


def _match(plan: dict[str, Any], c: Classification, ev: Evidence, age: float | None) -> bool:
    m = plan.get("match") or {}
    if "type" in m and m["type"] != c.type:
        return False
    if "subtype" in m and m["subtype"] != c.subtype:
        return False
    if "age_max_days" in m and (age is None or age >= m["age_max_days"]):
        return False
    if "age_min_days" in m and (age is None or age < m["age_min_days"]):
        return False
    if "requires_any" in m and not any(ev.present(x) for x in m["requires_any"]):
        return False
    return True


def _options(plan: dict[str, Any]) -> tuple[TreatmentOption, ...]:
    return tuple(TreatmentOption(id=o["id"], name=o["name"], evidence=o.get("evidence", ""), note=o.get("note", ""),
                                 sources=tuple(o.get("sources") or ())) for o in plan.get("options") or ())


def make_plan(f: Findings, ev: Evidence, c: Classification, missing: tuple[WorkupItem, ...], kb: Any) -> Plan:
    mg = kb.data["management"]
    plans = mg["plans"]
    plan = next((p for p in plans if _match(p, c, ev, f.age_days)), plans[-1])
    if c.type is None:
        plan = plans[-1]
    strategy = plan["strategy"]
    steps = list(plan.get("steps") or ())
    reasons: list[Reason] = [Reason(statement=f"Plan '{plan['id']}' for {c.type or 'no type'}"
                                    f"{'/' + c.subtype if c.subtype else ''}.", criterion=plan["id"],
                                    sources=tuple(plan.get("sources") or ()))]
    safety = None
    flags_present = []
    for rf in mg["red_flags"]:
        hit = [x for x in rf.get("concepts") or () if ev.present(x)]
        if hit:
            flags_present.append(rf["id"])
    follow_up = None
    if strategy == "watchful_waiting":
        causes = [x for x in mg["secondary_causes"]["concepts"] if ev.present(x)]
        essential_missing = [w for w in missing if w.essential]
        if causes:
            strategy = "treat_underlying_cause"
            safety = ("Watchful waiting withheld: a secondary cause is present ("
                      + ", ".join(x.replace("_", " ") for x in causes) + "); treat it first.")
            steps = ["Treat the secondary cause before any period of observation."] + steps
        elif essential_missing:
            strategy = "complete_workup"
            safety = ("Watchful waiting withheld until secondary causes are excluded: complete the essential work-up first ("
                      + "; ".join(w.label for w in essential_missing) + ").")
            steps = ["Complete the essential work-up first: " + "; ".join(w.label for w in essential_missing) + ".",
                     "If all results are normal for age, watchful waiting is appropriate: " + (steps[0] if steps else "")]
        elif flags_present and plan.get("if_red_flag"):
            strategy = plan["if_red_flag"]
            safety = ("Watchful waiting ended by red flag(s): " + ", ".join(x.replace("_", " ") for x in flags_present) + ".")
            steps = [s for s in steps if not s.lower().startswith("observe")] + [
                "Red flag present: refer for surgical assessment."]
    if plan.get("follow_up") and strategy in ("watchful_waiting", "medical"):
        fu = mg["follow_up"][plan["follow_up"]]
        visits = tuple(dict(v) for v in fu["visits"])
        course = mg.get("expected_course", {}).get(plan.get("course", ""), None)
        follow_up = FollowUp(
            schedule=tuple(f"{v['after_months']:g} month(s): {v['what']}" for v in fu["visits"]),
            visits=visits,
            red_flags=tuple({"id": r["id"], "trigger": r["trigger"], "action": r["action"],
                             "sources": list(r.get("sources") or ())} for r in mg["red_flags"]),
            expected_course=course, sources=tuple(fu.get("sources") or ()))
    if c.type is None:
        strategy = "complete_workup"
        steps = ["No skin lesion is described: describe the lesions (sites, number, size, appearance) and their course."]
    return Plan(strategy=strategy, steps=tuple(steps), follow_up=follow_up, options=_options(plan),
                reasons=tuple(reasons), safety=safety, red_flags_present=tuple(flags_present))
