"""Who is acting: the `--actor` option every changing command shares, and its default.

The actor is recorded on every audit entry a command writes. Default: `EDC_ACTOR`, else
`$USER@hostname`, else `system`.
"""

import os
import socket
from typing import Annotated

import typer

from edc.db.repositories import AuditContext
from edc.errors import InputError

ACTOR_ENV = "EDC_ACTOR"
MAX_ACTOR_LENGTH = 256  # the width of audit_logs.actor

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar=ACTOR_ENV,
        show_envvar=True,
        help="Who is acting, recorded in the audit log (default: $USER@hostname).",
    ),
]


def default_actor() -> str:
    """`$USER@hostname`, `$USER` without a hostname, or `system` when neither is known."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if not user:
        return "system"
    host = socket.gethostname()
    return f"{user}@{host}" if host else user


def audit_context(actor: str | None) -> AuditContext:
    """The AuditContext for `--actor` (or its default); an empty or over-long name is refused."""
    name = (default_actor() if actor is None else actor).strip()
    if not name:
        raise InputError("--actor must not be empty")
    if len(name) > MAX_ACTOR_LENGTH:
        raise InputError(f"--actor is {len(name)} characters long; at most {MAX_ACTOR_LENGTH}")
    return AuditContext(actor=name)
