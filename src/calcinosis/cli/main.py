"""The ``calcinosis`` command: the app, its global options and its single error boundary."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

import click
import typer

try:  # typer >= 0.2x vendors its own copy of click; catch both families of exceptions
    from typer._click import exceptions as _tclick
except ImportError:  # pragma: no cover
    _tclick = click.exceptions

_EXIT = (click.exceptions.Exit, typer.Exit)
_ABORT = (click.exceptions.Abort, typer.Abort)
_USAGE = (click.ClickException, _tclick.ClickException)

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
