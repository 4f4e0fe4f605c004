"""Running a snippet in a fresh interpreter, to measure memory without the test run's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent.parent

PEAK_RSS_PRELUDE = """
import resource, sys
sys.path.insert(0, {tests_dir!r})
def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
"""


def run_python(code: str, timeout: float = 120) -> Any:
    """Run `code` in a new interpreter; it prints one JSON value, which is returned."""
    script = PEAK_RSS_PRELUDE.format(tests_dir=str(TESTS_DIR)) + textwrap.dedent(code)
    # Without coverage's tracer: it would be measured, not the code under test.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COVERAGE_PROCESS_", "COV_CORE_"))
    }
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])
