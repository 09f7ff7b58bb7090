"""One error hierarchy with stable codes and hints.

Input problems are collected as :class:`Issue` objects (level, code, message, where, suggestion) so that a
caller can be strict or lenient; :class:`InputError` carries them when a reader refuses an input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    level: str  # "error" | "warning"
    code: str  # stable code, e.g. "CASE_FIELD_TYPE"
    message: str
    where: str = ""  # file and field, e.g. "case.json: labs[2].value"
    suggestion: str | None = None

    def __str__(self) -> str:
        loc = f"{self.where}: " if self.where else ""
        hint = f" (hint: {self.suggestion})" if self.suggestion else ""
        return f"{loc}{self.message}{hint}"


class CalcinosisError(Exception):
    """Base of every error the product raises on purpose. ``code`` is stable; ``exit_code`` for the CLI."""

    code = "CALCINOSIS_ERROR"
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code:
            self.code = code


class InputError(CalcinosisError):
    """The input is malformed or holds impossible values. Exit status 2."""

    code = "INPUT_ERROR"
    exit_code = 2

    def __init__(self, message: str, *, where: str = "", hint: str | None = None, code: str | None = None,
                 issues: list[Issue] | None = None):
        super().__init__(message, hint=hint, code=code)
        self.where = where
        self.issues = issues or [Issue("error", self.code, message, where, hint)]

    def __str__(self) -> str:
        return "; ".join(str(i) for i in self.issues)


class UnknownFormatError(InputError):
    code = "UNKNOWN_FORMAT"


class KnowledgeBaseError(CalcinosisError):
    """The knowledge base failed validation; ``problems`` lists every problem found."""

    code = "KB_INVALID"
    exit_code = 1

    def __init__(self, problems: list[str]):
        super().__init__(f"knowledge base invalid: {len(problems)} problem(s)")
        self.problems = problems

    def __str__(self) -> str:
        return self.message + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class MissingExtraError(CalcinosisError):
    """An optional back-end is not installed."""

    code = "MISSING_EXTRA"
    exit_code = 1

    def __init__(self, extra: str, module: str):
        super().__init__(
            f"this feature needs the optional '{extra}' dependencies (module '{module}' is not installed)",
            hint=f"install them with: pip install 'calcinosis[{extra}]'",
        )
        self.extra = extra
        self.module = module


def require(module: str, extra: str):
    """Import ``module`` lazily, or raise :class:`MissingExtraError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised in tests by monkeypatching
        raise MissingExtraError(extra, module) from exc
