"""Print the figures recorded in a run (`--record` JSON lines) as a Markdown table."""

import argparse
import sys

from bench.common import _num, read_records

ORDER = (
    "import",
    "import vs naive",
    "import memory",
    "count",
    "deep page",
    "claims",
    "append",
    "append_many",
    "verify",
    "hashing",
    "hashing vs tools",
)


def table(records: list[dict]) -> str:  # type: ignore[type-arg]
    rows = sorted(
        records,
        key=lambda r: (ORDER.index(r["figure"]) if r["figure"] in ORDER else 99, r["db"]),
    )
    lines = [
        "| figure | database | edc | baseline | ratio | target | result | notes |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        base = "-" if r["baseline"] is None else f"{_num(r['baseline'])} {r['unit']}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['figure']} | {r['db']} | {_num(r['edc'])} {r['unit']} | {base} | {ratio} | "
            f"{r['target']} | **{'PASS' if r['passed'] else 'FAIL'}** | {r['note']} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("record")
    args = p.parse_args()
    records = read_records(args.record)
    if not records:
        print("no figures recorded", file=sys.stderr)
        return 1
    print(table(records))
    passed = sum(r["passed"] for r in records)
    print(f"\n{passed} of {len(records)} figures meet their target.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
