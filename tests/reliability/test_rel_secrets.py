"""Scenario 9: a database password never shows, whatever edc does and wherever it fails.

Every command of `edc --help` (groups and subcommands, read from the CLI itself so that a new
command cannot be forgotten) runs with a PostgreSQL URL holding a sentinel password against a
live server (it uses trust authentication, so any password is accepted), a closed port and a
database that does not exist; a few also take the URL from the environment or a config file,
and a few run with --debug. The sentinel, raw or percent-encoded, must not appear in stdout,
stderr, any file written under the working directory or HOME, the server's log, or the live
databases' audit trail.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import typer
from rel_support import (
    TRACEBACK,
    Copies,
    Report,
    admin_conninfo,
    closed_port,
    opened,
    require_postgres_url,
    write_requests,
)
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.core import TyperGroup

from cli_support import run_edc
from edc.cli.app import app
from edc.db import migrate
from edc.db.models import Job
from edc.ingest.importer import import_file

SENTINEL = "Sntl-7f3a:p@ss/w0rd#%42"
ENCODED = quote(SENTINEL, safe="")


def _commands() -> list[tuple[str, ...]]:
    """(group, subcommand) for every command `edc --help` lists."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    found = []
    for name, group in root.commands.items():
        assert isinstance(group, TyperGroup), name
        found += [(name, sub) for sub in group.commands]
    return sorted(found)


def _arguments(work: Path, job_uuid: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Minimal arguments for each command."""
    evidence = work / "evidence.html"
    evidence.write_text("<html>evidence</html>")
    return {
        ("config", "show"): (),
        ("db", "init"): (),
        ("db", "upgrade"): (),
        ("db", "downgrade"): (),
        ("db", "status"): (),
        ("db", "seed"): ("--artifacts-dir", str(work / "seed-artifacts")),
        ("db", "backup"): (str(work / "backup.dump"),),
        ("jobs", "import"): (str(write_requests(work / "requests.csv", 3, "secret")),),
        ("jobs", "list"): (),
        ("jobs", "show"): (job_uuid,),
        ("jobs", "cancel"): (job_uuid,),
        ("artifacts", "add"): (job_uuid, str(evidence), "--type", "html"),
        ("artifacts", "verify"): (),
        ("audit", "verify"): (),
        ("audit", "head"): (),
        ("audit", "export"): (str(work / "export.jsonl"),),
        ("audit", "log"): (),
    }


@dataclass(frozen=True)
class Run:
    target: str
    channel: str
    command: tuple[str, ...]
    code: int
    output: str


def _url(server: str, *, port: int | None = None, database: str | None = None) -> str:
    url = make_url(server).set(drivername="postgresql", password=SENTINEL)
    if port is not None:
        url = url.set(port=port)
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


@pytest.mark.postgresql
def test_password_never_leaks(tmp_path: Path, report: Report) -> None:
    server = require_postgres_url()
    template = f"edc_secrets_{os.getpid()}"
    with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{template}"')
    template_url = make_url(server).set(database=template).render_as_string(hide_password=False)
    copies = Copies("postgresql", template_url, tmp_path)
    server_log = Path(os.environ.get("EDC_TEST_POSTGRES_DIR", "/nonexistent")) / "server.log"
    log_start = server_log.stat().st_size if server_log.exists() else 0
    try:
        with opened(template_url) as db:
            migrate.init_schema(db)
            import_file(db, write_requests(tmp_path / "seed.csv", 2, "seed"))
            with db.session(read_only=True) as session:
                job_uuid = session.scalars(select(Job.uuid).order_by(Job.id)).first()
        assert job_uuid is not None
        runs, live = _run_everything(server, copies, tmp_path, job_uuid)
        leaks_in_databases = sum(_leaks_in(url) for url in live)
    finally:
        copies.drop_all()
        with psycopg.connect(admin_conninfo(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')

    leaks = [run for run in runs if SENTINEL in run.output or ENCODED in run.output]
    assert not leaks, [f"{r.target} {r.channel} {' '.join(r.command)}: {r.output}" for r in leaks]
    tracebacks = [r for r in runs if TRACEBACK in r.output and r.channel != "--debug"]
    assert not tracebacks, [f"{r.target} {' '.join(r.command)}: {r.output}" for r in tracebacks]
    failed_ok = [r for r in runs if r.target != "live" and r.code == 0 and r.command[0] != "config"]
    assert not failed_ok, [f"{r.target} {' '.join(r.command)} exited 0" for r in failed_ok]
    # Everything edc may have written: its working directory and HOME (config files excluded:
    # they hold the sentinel on purpose).
    files = [p for d in ("work", "home") for p in (tmp_path / d).rglob("*") if p.is_file()]
    in_files = [p for p in files if _holds_sentinel(p.read_bytes())]
    assert not in_files, f"the sentinel was written to {in_files}"
    in_server_log = server_log.exists() and _holds_sentinel(server_log.read_bytes()[log_start:])
    assert not in_server_log, "the sentinel is in the PostgreSQL server log"
    assert leaks_in_databases == 0, "the sentinel is stored in an audit trail"
    by_target = {
        target: sum(1 for r in runs if r.target == target)
        for target in ("live", "closed port", "no such database")
    }
    live_failed = sorted({" ".join(r.command) for r in runs if r.target == "live" and r.code})
    report(
        f"postgresql: {len(_commands())} commands x (live server, closed port, no such "
        f"database) + env/config-file/--debug variants = {len(runs)} runs {by_target}, "
        f"live runs exiting non-zero: {live_failed or 'none'}; sentinel (raw and "
        f"percent-encoded) found in 0 outputs, 0 of {len(files)} files written, 0 server log "
        "lines, 0 audit entries; 0 tracebacks without --debug"
    )


def _holds_sentinel(data: bytes) -> bool:
    return SENTINEL.encode() in data or ENCODED.encode() in data


def _leaks_in(url: str) -> int:
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit_logs WHERE strpos(description || details::text || actor, "
            "%s) > 0 OR strpos(description || details::text || actor, %s) > 0",
            (SENTINEL, ENCODED),
        ).fetchone()
    return int(row[0]) if row else 0


Invocation = tuple[str, str, tuple[str, ...], dict[str, str], tuple[str, ...]]
"""(target, channel, command, extra environment, global options)."""


def _run_everything(
    server: str, copies: Copies, tmp_path: Path, job_uuid: str
) -> tuple[list[Run], list[str]]:
    work, home, configs = tmp_path / "work", tmp_path / "home", tmp_path / "configs"
    for directory in (work, home, configs):
        directory.mkdir()
    arguments = _arguments(work, job_uuid)
    commands = _commands()
    missing = [c for c in commands if c not in arguments]
    assert not missing, f"no minimal arguments for {missing}: add them"
    live: list[str] = []
    jobs: list[Invocation] = []
    failing = {
        "closed port": _url(server, port=closed_port()),
        "no such database": _url(server, database="edc_no_such_database_for_secrets"),
    }
    for number, command in enumerate(commands):
        # Each live command gets its own copy: `db downgrade` must not pull the schema away
        # from the others running at the same time.
        url = copies.new(f"c{number}")
        live.append(url)
        targets = {"live": _url(server, database=make_url(url).database), **failing}
        for target, target_url in targets.items():
            jobs.append((target, "--database-url", command, {}, ("--database-url", target_url)))
    # Other ways in: the environment and a config file; and --debug, which shows tracebacks.
    extra_live = copies.new("channels")
    live.append(extra_live)
    channels = {"live": _url(server, database=make_url(extra_live).database), **failing}
    for target, target_url in channels.items():
        config = configs / f"{target.replace(' ', '-')}.toml"
        config.write_text(f'[database]\nurl = "{target_url}"\n')
        command = ("jobs", "list")
        if target != "no such database":
            jobs.append((target, "environment", command, {"EDC_DATABASE__URL": target_url}, ()))
            jobs.append((target, "config file", command, {}, ("--config", str(config))))
        if target != "live":
            jobs.append((target, "--debug", command, {}, ("--debug", "--database-url", target_url)))

    def run(job: Invocation) -> Run:
        target, channel, command, env, options = job
        result = run_edc(
            *options,
            *command,
            *arguments[command],
            env={"HOME": str(home), **env},
            cwd=work,
            timeout=120,
        )
        return Run(target, channel, command, result.returncode, result.stdout + result.stderr)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(run, jobs)), live
