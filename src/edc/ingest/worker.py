"""Preparing an import's rows in a forked worker process while this process writes them.

The worker reads, validates, hashes and formats (edc.ingest.prepare) and sends each batch's
rows through a pipe; this process only looks up duplicates when asked, reserves ids and writes,
all in its one transaction. The two overlap on two cores with no lock between them (threads
would share the GIL, which the database driver gives back and takes again on every row).
The pipe holds at most the batch being sent, so memory stays bounded. The worker never touches
the database: if this process dies, the worker's next send fails and it exits; if the worker
dies, this process sees the pipe close, fails, and its transaction rolls back.
"""

import contextlib
import gc
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any

from edc.db.repositories.job import CreationRows
from edc.errors import EdcError
from edc.ingest.prepare import Check, ImportReport, Plan, prepare


class WorkerFailedError(EdcError):
    """The preparing process stopped without saying why (killed, out of memory)."""


def available() -> bool:
    """Whether this platform can fork a worker."""
    return hasattr(os, "fork")


def prepare_in_worker(
    plan: Plan, report: ImportReport, check: Check, on_progress: Callable[[int], None] | None
) -> Iterator[CreationRows]:
    """`prepare` run in a forked process; answers its duplicate lookups with `check` here.

    `report` is replaced field by field with the worker's when it finishes.
    """
    for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
        stream.flush()
    here, there = get_context("fork").Pipe()
    process = get_context("fork").Process(
        target=_work, args=(plan, report, there), daemon=True, name="edc-import-prepare"
    )
    process.start()
    there.close()
    try:
        while True:
            try:
                kind, value, read = here.recv()
            except EOFError:
                process.join(5)
                raise WorkerFailedError(
                    f"the import's preparing process stopped (exit code {process.exitcode}); "
                    "nothing was imported"
                ) from None
            if on_progress is not None and read:
                on_progress(read)
            if kind == "rows":
                yield value
                del value  # written: free it before the next batch arrives
            elif kind == "check":
                here.send(check(value))
            elif kind == "done":
                report.__dict__.update(value.__dict__)
                return
            else:
                raise value
    finally:
        here.close()
        if process.is_alive():
            process.terminate()
        process.join()


def _work(plan: Plan, report: ImportReport, pipe: Connection) -> None:
    """The worker: prepare everything, send it in order, then leave at once (no clean-up of
    what it inherited: the database connections belong to the parent)."""
    gc.disable()
    code = 0
    read = [0]

    def progress(size: int) -> None:
        read[0] = size

    def check(keys: Any) -> Any:
        pipe.send(("check", keys, read[0]))
        return pipe.recv()

    try:
        for rows in prepare(plan, report, check, progress):
            pipe.send(("rows", rows, read[0]))
            del rows  # sent: free it before the next batch is made
        pipe.send(("done", report, read[0]))
    except BaseException as exc:
        code = 1
        with contextlib.suppress(BaseException):  # if the parent is gone, nothing to tell
            pipe.send(("error", _transportable(exc), read[0]))
    finally:
        os._exit(code)


def _transportable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a WorkerFailedError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, just made
    except Exception:
        return WorkerFailedError(f"the import's preparing process failed: {exc!r}")
    return exc
