"""Run a command and write its wall time and peak memory as JSON: `_child_rss.py OUT -- CMD`.

Why a wrapper: Linux keeps a process's peak RSS across exec, and a child forked (or vforked)
from a large parent starts with the parent's peak, so `os.wait4` or RUSAGE_CHILDREN in a
benchmark process that holds data reports the benchmark's own size, not the child's. This
small process (about 10 MB) is the parent instead; run it with `python -S`.

A command may fork helpers of its own (`edc jobs import` prepares rows in a worker process), so
the whole process tree is sampled every 20 ms while it runs:
- `tree_pss`: the largest sum of proportional set sizes (shared pages split between the
  processes sharing them) seen at one moment: the tree's memory;
- `sum_of_peaks`: the sum of every process's own peak RSS (VmHWM), an upper bound that counts
  shared pages once per process;
- `max_rss`: what wait4 reports, the largest single process's peak.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SAMPLE_S = 0.02


def _tree(root: int) -> list[int]:
    """`root` and its descendants, as far as /proc shows them now."""
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                queue += [int(c) for c in (task / "children").read_text().split()]
    return pids


def _kib(path: str, field: str) -> int:
    """A `field:  N kB` line of a /proc file, in bytes (0 when the process is gone)."""
    try:
        with open(path, encoding="ascii") as stream:
            for line in stream:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main() -> int:
    out, sep, *argv = sys.argv[1:]
    assert sep == "--", "usage: _child_rss.py OUT -- CMD..."
    assert argv, "no command"
    start = time.perf_counter()
    proc = subprocess.Popen(argv)
    tree_pss, peaks = 0, {}
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        pids = _tree(proc.pid)
        tree_pss = max(tree_pss, sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
        for p in pids:
            peaks[p] = max(peaks.get(p, 0), _kib(f"/proc/{p}/status", "VmHWM:"))
        time.sleep(SAMPLE_S)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    max_rss = usage.ru_maxrss * 1024
    peaks[proc.pid] = max(peaks.get(proc.pid, 0), max_rss)
    with open(out, "w", encoding="utf-8") as stream:
        json.dump(
            {
                "seconds": seconds,
                "max_rss": max_rss,
                "tree_pss": tree_pss,
                "sum_of_peaks": sum(peaks.values()),
                "processes": len(peaks),
                "returncode": code,
            },
            stream,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
