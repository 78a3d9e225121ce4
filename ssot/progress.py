"""Progress of a long audit, per live source, on a terminal only (rich); silent otherwise.

Progress goes to standard error and disappears when done (transient), so the report on standard
output is the same whether or not a terminal watched it. Only source names, object names and
counts are shown: never anything a source read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ProgressFn = Callable[[str, str, int | None], None]


@contextmanager
def source_progress(*, enabled: bool, console: Any = None) -> Iterator[ProgressFn | None]:
    """`console`: a rich Console to draw on (default: standard error)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    tasks: dict[str, TaskID] = {}
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[source]}[/bold]"), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=console or Console(stderr=True), transient=True) as bar:

        def update(source: str, what: str, n: int | None) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task("", total=None, source=source)
            text = what if n is None else f"{what} ({n} read so far)"
            bar.update(tasks[source], description=text)
            if what == "done":
                bar.update(tasks[source], total=1, completed=1)

        yield update
