"""``python -m calcinosis`` runs the command line."""

from calcinosis.cli.main import run

run()
