"""Progress bars for long work (seeding, imports, indexing), shown on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

# track(label, total) → a callback that advances that bar by n items; total None = unknown.
Track = Callable[[str, int | None], Callable[[int], None]]


class RateColumn(ProgressColumn):
    """Items per second, e.g. `1,250/s`."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


@contextmanager
def bars(console: Console | None = None) -> Iterator[Track]:
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True)) as progress:

        def track(label: str, total: int | None) -> Callable[[int], None]:
            task = progress.add_task(label, total=total)
            return lambda n: progress.advance(task, n)

        yield track


def silent(_label: str, _total: int | None) -> Callable[[int], None]:
    return lambda _n: None
