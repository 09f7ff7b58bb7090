"""calcinosis: clinical decision support for calcinosis cutis, infants and children first.

It supports a clinician's decision and does not replace it. The public API: ``load_kb`` loads the
knowledge base, ``read_path`` reads an input file into Findings, ``assess`` returns an Assessment.
"""

__version__ = "0.1.0"

INTENDED_USE = (
    "Decision support for clinicians: this assessment supports, and does not replace, a clinician's "
    "judgement. It is not a diagnosis. Knowledge base not yet reviewed by a clinician."
)


def __getattr__(name: str):  # lazy public names keep `import calcinosis` cheap
    if name == "assess":
        from calcinosis.core.assess import assess

        return assess
    if name == "load_kb":
        from calcinosis.kb import load_kb

        return load_kb
    if name == "read_path":
        from calcinosis.io import read_path

        return read_path
    if name == "to_dict":
        from calcinosis.render.json_out import to_dict

        return to_dict
    raise AttributeError(name)


__all__ = ["INTENDED_USE", "__version__", "assess", "load_kb", "read_path", "to_dict"]
