"""Knowledge base: versioned clinical data files with their sources, their loader and their validation.

Everything clinical (types, criteria, lexicon, reference intervals, units, mimics, treatments, codes)
lives in ``kb/data``; the core receives a loaded :class:`KnowledgeBase` and never reads files itself.
"""

from calcinosis.kb.loader import KnowledgeBase, census, load_kb, validate_data

__all__ = ["KnowledgeBase", "census", "load_kb", "validate_data"]
