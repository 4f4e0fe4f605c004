"""Summarise a py-spy profile (`py-spy record --format raw`, collapsed stacks) as percentages.

    .venv/bin/py-spy record --idle --rate 250 --format raw -o prof.txt -- .venv/bin/edc ...
    .venv/bin/python -m bench.stacks prof.txt --top 25 --focus create_many append_many ...

Inclusive share: the samples whose stack contains the function (or, for `--focus`, a frame
containing the text); self share: the samples where it is the innermost Python frame.
`--idle` makes py-spy keep samples of threads waiting (on fsync, on the server, on a lock),
so the shares are of wall time, not only CPU time.
"""

import argparse
import re
import sys
from collections import Counter

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def load(path: str) -> list[tuple[list[str], int]]:
    stacks = []
    with open(path, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            line = line.rstrip("\n")
            if not line:
                continue
            frames, _, count = line.rpartition(" ")
            stacks.append((frames.split(";"), int(count)))
    return stacks


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("profile")
    p.add_argument("--top", type=int, default=20)
    p.add_argument(
        "--focus", nargs="*", default=[], help="texts (a&b: both) to report inclusive shares of"
    )
    args = p.parse_args()
    stacks = load(args.profile)
    total = sum(count for _, count in stacks)
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in stacks:
        names = [_name(frame) for frame in frames]
        for name in set(names):
            inclusive[name] += count
        own[names[-1]] += count
    print(f"{total} samples")
    if args.focus:
        print("\ninclusive share of frames containing:")
        for text in args.focus:
            parts = text.split("&")  # "a&b": stacks holding a frame with a and one with b
            hits = sum(
                count
                for frames, count in stacks
                if all(any(part in f for f in frames) for part in parts)
            )
            print(f"  {100 * hits / total:5.1f}%  {text}")
    print(f"\ntop {args.top} inclusive:")
    for name, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print(f"\ntop {args.top} self:")
    for name, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
