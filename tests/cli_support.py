"""Running the installed `edc` executable in a subprocess, as a person or a script would."""

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

EDC_EXECUTABLE = shutil.which("edc", path=str(Path(sys.executable).parent)) or "edc"


def run_edc(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    input_text: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `edc ARGS...` with a clean EDC_* environment plus `env`; return the finished process."""
    full_env = {k: v for k, v in os.environ.items() if not k.upper().startswith("EDC_")}
    full_env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    full_env.update(env or {})
    return subprocess.run(
        [EDC_EXECUTABLE, *args],
        env=full_env,
        cwd=cwd,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
