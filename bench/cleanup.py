"""Drop the database that `import_rate.py --keep` left beside `--pg-url` (SQLite's lives in
the work directory and goes with it)."""

import argparse
import os

from bench.common import KEPT_NAME, PostgresSite


def drop_kept(pg_url: str | None) -> None:
    if pg_url:
        site = PostgresSite(pg_url)
        site.drop(site.existing(KEPT_NAME))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pg-url", default=os.environ.get("EDC_BENCH_POSTGRES_URL"))
    drop_kept(p.parse_args().pg_url)


if __name__ == "__main__":
    main()
