"""``aiflux admin-grant <username>`` / ``aiflux admin-revoke <username>``.

The admin role is granted only from the command line of someone who can reach the identity
database, never through an HTTP route. The database comes from ``IDENTITY_DATABASE_URL``
(distributed mode) or, with ``--data-dir``, from the embedded install in that directory.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

# psycopg, the kit's db module and the settings are imported where used: this module is
# loaded by every `aiflux` invocation (even --help), which must answer at once.


def set_admin(database_url: str, username: str, grant: bool) -> bool:
    """Grant or revoke the admin role of an active account; False when there is none."""
    import psycopg
    from aiflux_kit.db import psycopg_conninfo

    change = (
        "array_append(array_remove(roles, 'admin'), 'admin')" if grant else "array_remove(roles, 'admin')"
    )
    with psycopg.connect(psycopg_conninfo(database_url)) as conn:
        row = conn.execute(
            f"UPDATE users SET roles = {change} WHERE lower(username) = lower(%s)"  # noqa: S608 - fixed SQL
            " AND deleted_at IS NULL RETURNING id",
            (username,),
        ).fetchone()
        if row is None:
            return False
        conn.execute(
            "INSERT INTO security_log (user_id, event, detail) VALUES (%s, %s, %s::jsonb)",
            (row[0], "admin_granted" if grant else "admin_revoked", json.dumps({"via": "command line"})),
        )
    return True


EmbeddedDatabase = Callable[[Path, str], str]
"""Given by the runner: the URL of a service database of the embedded install in a data dir."""


def _database_url(args: argparse.Namespace) -> str:
    if args.data_dir:
        return str(args.embedded_database(Path(args.data_dir).resolve(), "identity"))
    if os.environ.get("IDENTITY_DATABASE_URL"):
        from .settings import IdentitySettings

        return IdentitySettings().database_url
    raise SystemExit("set IDENTITY_DATABASE_URL, or pass --data-dir for an embedded install")


def _run(args: argparse.Namespace) -> None:
    grant = args.command == "admin-grant"
    if not set_admin(_database_url(args), args.username, grant):
        raise SystemExit(f"no active account named {args.username!r}")
    print(f"{'granted' if grant else 'revoked'} the admin role of {args.username}")


def add_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], embedded_database: EmbeddedDatabase
) -> None:
    """Add ``admin-grant`` and ``admin-revoke`` to the ``aiflux`` command."""
    for name, verb in (("admin-grant", "grant"), ("admin-revoke", "revoke")):
        parser = subparsers.add_parser(name, help=f"{verb} the admin role of a user")
        parser.add_argument("username")
        parser.add_argument(
            "--data-dir", help="embedded install's data directory (default: IDENTITY_DATABASE_URL)"
        )
        parser.set_defaults(func=_run, embedded_database=embedded_database)
