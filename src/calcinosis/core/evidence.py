"""Turn Findings into concept facts through the knowledge base's lexicon (three-valued, with provenance).

A concept (``kb/data/concepts*.yaml``) is found in the input's free text and coded fields; a negated
mention ("no evidence of Down syndrome") makes it explicitly absent; silence leaves it unknown.
"""

from __future__ import annotations

from dataclasses import dataclass


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
