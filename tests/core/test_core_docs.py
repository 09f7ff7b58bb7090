"""The docs are a contract: every knowledge file and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_knowledge_file_is_documented(kb):
    doc = (ROOT / "docs" / "knowledge.md").read_text()
    for name in kb.files:
        stem = name.rsplit(".", 1)[0]
        if stem.startswith("references_") or stem.startswith("concepts_"):
            continue
        assert f"`{name}`" in doc, f"{name} is not documented in docs/knowledge.md"


def test_every_cli_command_is_in_the_readme():
    import typer.main

    from calcinosis.cli.main import app

    readme = (ROOT / "README.md").read_text()
    for name in typer.main.get_command(app).commands:
        assert f"calcinosis {name}" in readme, f"'calcinosis {name}' is not shown in the README"


def test_readme_states_intended_use():
    readme = (ROOT / "README.md").read_text()
    assert "not a diagnosis" in readme and "Intended use" in readme
