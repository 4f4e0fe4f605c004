"""Run a command and write its wall time and exact peak RSS as JSON: `_child_rss.py OUT -- CMD`.

Why a wrapper: Linux keeps a process's peak RSS across exec, and a child forked (or vforked)
from a large parent starts with the parent's peak, so `os.wait4` or RUSAGE_CHILDREN in a
benchmark process that holds data reports the benchmark's own size, not the child's. This
small process (about 10 MB) is the parent instead; run it with `python -S`.
"""

import json
import os
import subprocess
import sys
import time


def main() -> int:
    out, sep, *argv = sys.argv[1:]
    assert sep == "--", "usage: _child_rss.py OUT -- CMD..."
    assert argv, "no command"
    start = time.perf_counter()
    proc = subprocess.Popen(argv)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as stream:
        json.dump(
            {"seconds": seconds, "max_rss": usage.ru_maxrss * 1024, "returncode": code}, stream
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
