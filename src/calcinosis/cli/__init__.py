"""Command-line adapter: one Typer app, one error boundary, data on stdout and messages on stderr.

Exit status: 0 ok, 1 failure, 2 bad usage or bad input. Tracebacks only with ``--verbose``.
"""
