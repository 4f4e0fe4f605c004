"""Progress bars on stderr for long work (imports, verification), shown only on a terminal.

Piped or redirected output gets no bar and pays nothing for it: the meters are no-ops then.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

from edc.cli.output import stderr

Unit = Literal["bytes", "items"]
_UPDATES_PER_RUN = 500  # redraw at most this often over a whole run, however many items


class Meter:
    """Counts work done; redraws the bar now and then rather than on every item."""

    def __init__(
        self, update: Callable[[int], None] | None = None, total: int | None = None
    ) -> None:
        self._update = update
        self._step = max(1, (total or 0) // _UPDATES_PER_RUN)
        self._shown = 0
        self.done = 0

    def advance(self, amount: int = 1) -> None:
        """Add `amount` to the work done."""
        self.set(self.done + amount)

    def set(self, completed: int) -> None:
        """Set the work done so far (bytes read, items checked)."""
        self.done = completed
        if self._update is not None and completed - self._shown >= self._step:
            self._shown = completed
            self._update(completed)


@contextmanager
def progress_bar(description: str, total: int | None, unit: Unit = "items") -> Iterator[Meter]:
    """A transient bar on stderr while the block runs; `total` None means unknown length."""
    if not stderr.is_terminal:
        yield Meter()
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    counter = (
        [DownloadColumn(), TransferSpeedColumn()] if unit == "bytes" else [MofNCompleteColumn()]
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *counter,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=total)
        meter = Meter(lambda completed: progress.update(task, completed=completed), total)
        yield meter
        progress.update(task, completed=meter.done)
