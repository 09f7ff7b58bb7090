"""A Rich progress display on stderr: files and resources read, candidates assessed."""

from __future__ import annotations

from typing import Any


class ScreenProgress:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._p: Any = None

    def __enter__(self) -> ScreenProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._p = Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                               TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                               console=Console(stderr=True), transient=False)
            self._p.start()
        self._tasks: dict[str, Any] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        if self._p is not None:
            self._p.stop()

    def task(self, key: str, description: str, total: int | None) -> None:
        if self._p is not None:
            self._tasks[key] = self._p.add_task(description, total=total, info="")

    def advance(self, key: str, n: int = 1, info: str | None = None) -> None:
        if self._p is not None and key in self._tasks:
            kw = {"info": info} if info is not None else {}
            self._p.update(self._tasks[key], advance=n, **kw)

    def total(self, key: str, total: int) -> None:
        if self._p is not None and key in self._tasks:
            self._p.update(self._tasks[key], total=total)
