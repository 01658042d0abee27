"""Operator commands beside the server: ``python -m backend migrate`` and ``... backup``.

``migrate`` brings a database to this code's schema revision (copying a SQLite file to
``<file>.bak-<revision>`` first), or with ``--status`` only reports where it stands.
``backup`` copies a SQLite database with SQLite's online backup API while servers keep
serving it; PostgreSQL is backed up with ``pg_dump`` (docs/operations.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from .config import load_settings
from .store import StoreError, make_engine
from .store.migrate import BASELINE, SchemaError, backup_sqlite_file, schema_status, upgrade

COMMANDS = ("migrate", "backup")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_NEEDS_UPGRADE = 3  # migrate --status: older than this code


def run_command(argv: Sequence[str]) -> int:
    """Run ``argv[0]`` (one of ``COMMANDS``) with the rest as its arguments; return the exit
    status."""
    name, rest = argv[0], list(argv[1:])
    parser = _parser(name)
    args = parser.parse_args(rest)
    db = args.db or load_settings([]).db  # --db, else SYNCBOARD_DB, else the server default
    try:
        if name == "migrate":
            return asyncio.run(_migrate(db, status_only=args.status, backup=not args.no_backup))
        return _backup(db, Path(args.target))
    except (StoreError, SchemaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m backend {name}")
    parser.add_argument("--db", metavar="URL",
                        help="database URL (default: SYNCBOARD_DB, else the server's default)")
    if name == "migrate":
        parser.description = ("Upgrade the database to this syncboard's schema revision; "
                              "a SQLite file is first copied to <file>.bak-<revision>.")
        parser.add_argument("--status", action="store_true",
                            help="only report the revisions: exit 0 up to date, "
                                 f"{EXIT_NEEDS_UPGRADE} older, {EXIT_FAILED} newer or unusable")
        parser.add_argument("--no-backup", action="store_true",
                            help="SQLite: do not copy the file first (you made your own backup)")
    else:
        parser.description = ("Copy a SQLite database while servers keep using it (SQLite's "
                              "online backup API). For PostgreSQL use pg_dump.")
        parser.add_argument("target", metavar="FILE", help="the copy to write (replaced)")
    return parser


async def _migrate(db: str, status_only: bool, backup: bool) -> int:
    engine = make_engine(db)
    try:
        if status_only:
            status = await schema_status(engine)
            current = status.current or (f"{BASELINE} (made before migrations, not recorded)"
                                         if status.pre_alembic else "none (empty database)")
            print(f"database revision: {current}\nthis code's revision: {status.head}")
            if not status.known:
                print("the database is newer than this code", file=sys.stderr)
                return EXIT_FAILED
            return EXIT_OK if status.up_to_date else EXIT_NEEDS_UPGRADE
        result = await upgrade(engine, backup=backup)
    finally:
        await engine.dispose()
    if result.before == result.after:
        print(f"database already at revision {result.after}")
    else:
        print(f"database upgraded from {result.before or 'empty'} to {result.after}")
    if result.backup is not None:
        print(f"backup of the previous database: {result.backup}")
    return EXIT_OK


def _backup(db: str, target: Path) -> int:
    url = make_url(db)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        print("error: backup copies SQLite files; back up PostgreSQL with pg_dump "
              "(docs/operations.md)", file=sys.stderr)
        return EXIT_USAGE
    source = Path(url.database).expanduser().resolve()
    if not source.is_file():
        print(f"error: no database file at {source}", file=sys.stderr)
        return EXIT_FAILED
    backup_sqlite_file(source, target)
    print(f"backed up {source} to {target} ({target.stat().st_size} bytes)")
    return EXIT_OK
