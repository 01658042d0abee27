"""Alembic's entry point: run the revisions on the connection syncboard hands over.

``backend.store.migrate`` passes an open connection, already inside the transaction that
holds the schema lock, as ``config.attributes["connection"]``: every revision then runs in
that one transaction (``transactional_ddl``, SQLite included: a kill -9 half-way leaves the
old schema). Run from the ``alembic`` command line instead (see alembic.ini), it connects to
the URL given as ``-x db=URL``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from backend.store.schema import metadata

config = context.config


def run_on(connection) -> None:
    """Run the pending revisions on a sync ``connection``."""
    context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("syncboard migrations run online only: give -x db=URL")
if config.attributes.get("connection") is not None:
    run_on(config.attributes["connection"])
else:
    asyncio.run(_run_from_url(context.get_x_argument(as_dictionary=True)["db"]))
