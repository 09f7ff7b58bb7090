"""``calcinosis kb validate | show [TOPIC]``: check and browse the knowledge base."""

from __future__ import annotations

import json
import sys

import typer

kb_app = typer.Typer(help="Check and browse the knowledge base.\n\nExample:\n\n  calcinosis kb validate",
                     no_args_is_help=True)


@kb_app.command("validate")
def validate_cmd(path: str = typer.Option(None, "--path", help="A knowledge-base folder (default: the bundled one).")) -> None:
    """Validate the whole knowledge base and report every problem at once.

    Example:

      calcinosis kb validate
    """
    from calcinosis.kb.loader import load_kb

    kb = load_kb(path)  # raises KnowledgeBaseError listing every problem
    from calcinosis.kb.loader import census

    counts = census(kb)
    print(f"knowledge base {kb.version} ({kb.content_hash}): valid; {len(kb.files)} files, "
          f"{len(kb.references)} references")
    for k, v in counts.items():
        print(f"  {k}: {v}")


@kb_app.command("show")
def show_cmd(
    topic: str = typer.Argument(None, help="A file/topic (types, mimics, analytes, references, ...) or an entry id."),
    fmt: str = typer.Option("text", "--format", "-f", help="text | json"),
) -> None:
    """Show the knowledge base's topics, one topic, or one entry by id.

    Example:

      calcinosis kb show mimics
    """
    from calcinosis.kb import load_kb

    kb = load_kb()
    if topic is None:
        print(f"knowledge base {kb.version} ({kb.content_hash}); topics:")
        for name in sorted(kb.data):
            print(f"  {name}")
        return
    data = kb.data.get(topic)
    if data is None:
        data = _find_entry(kb.data, topic)
    if data is None:
        from calcinosis.errors import InputError

        raise InputError(f"no topic or entry {topic!r}", where="TOPIC", hint="run 'calcinosis kb show' for the topics")
    if fmt == "json":
        print(json.dumps(data, indent=2, default=str))
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110))


def _find_entry(node, ident):
    if isinstance(node, dict):
        if node.get("id") == ident:
            return node
        if ident in node and isinstance(node[ident], dict):
            return node[ident]
        for v in node.values():
            r = _find_entry(v, ident)
            if r is not None:
                return r
    elif isinstance(node, list):
        for v in node:
            r = _find_entry(v, ident)
            if r is not None:
                return r
    return None


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb")
