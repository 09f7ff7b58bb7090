"""Registry errors: each is a calcinosis error with a stable code and a hint."""

from __future__ import annotations

from calcinosis.errors import CalcinosisError, InputError


class RegistryNotReadyError(InputError):
    """The database has not been migrated to the current schema (``calcinosis registry init``)."""

    code = "REGISTRY_NOT_INITIALISED"


class RegistryWriteError(CalcinosisError):
    """A write failed after every retry (e.g. the database stayed locked)."""

    code = "REGISTRY_WRITE_FAILED"
    exit_code = 1
