"""Fixtures of the reliability suite, and the summary it adds to pytest's output.

Every scenario reports its counts through the `report` fixture; the lines are printed at the
end of the run under "reliability summary", so `make test` shows them without `-s`.
Set `EDC_RELIABILITY_LONG=1` for the larger versions of the scenarios.
"""

import os
import time
from collections.abc import Iterator

import pytest
from rel_support import PostgresServer, Report, postgres_server, require_postgres_url

SUMMARY_KEY = "reliability"
# Set by a controlling process that prints the summary itself, for its xdist workers to see.
CONTROLLER_PRINTS = "EDC_TEST_RELIABILITY_SUMMARY_BY_CONTROLLER"
_LINES: list[str] = []  # this process's lines


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    """`report(line)`: print a line of counts and keep it for the end-of-run summary.

    The lines also travel as the test's `user_properties`, which pytest-xdist sends from its
    workers to the controlling process.
    """
    name = request.node.nodeid.split("::")[-1]
    started = time.monotonic()

    def keep(text: str) -> None:
        request.node.user_properties.append((SUMMARY_KEY, text))
        _LINES.append(text)

    def add(line: str) -> None:
        print(f"{name}: {line}")
        keep(f"{name}: {line}")

    yield add
    keep(f"{name}: took {time.monotonic() - started:.1f} s")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: this process prints
        os.environ[CONTROLLER_PRINTS] = "1"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The summary, where this conftest is loaded in the process that reports."""
    lines: list[str] = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "teardown":
                continue  # the teardown report carries every line of its test
            lines += [v for k, v in getattr(report, "user_properties", []) if k == SUMMARY_KEY]
    if lines:
        terminalreporter.section("reliability summary")
        for line in sorted(lines):
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker whose controller never loaded this conftest (a run of the whole
    `tests` tree loads only the top conftest there), print this worker's lines on stderr, which
    reaches the terminal, so that `make test` shows them too."""
    worker = getattr(session.config, "workerinput", None)
    if worker is None or os.environ.get(CONTROLLER_PRINTS) == "1" or not _LINES:
        return
    title = f" reliability summary (xdist worker {worker.get('workerid', '?')}) "
    text = "\n" + title.center(78, "=") + "\n" + "\n".join(sorted(_LINES)) + "\n"
    os.write(2, text.encode())


@pytest.fixture
def pg_server() -> PostgresServer:
    """The throwaway server of `make test` (its cluster directory), for tests that control it."""
    require_postgres_url()  # skips, or fails when PostgreSQL is required, without a server
    server = postgres_server()
    if server is None:
        reason = "EDC_TEST_POSTGRES_DIR does not name the cluster of scripts/test-postgres.sh"
        if os.environ.get("EDC_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return server
