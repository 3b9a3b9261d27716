"""Alembic environment: async engine on asyncpg, one transaction per migration run."""

import asyncio

import asyncpg
from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import await_only

from comptoir.db import direct, migrate, repeatable


def _run(connection: Connection) -> None:
    driver = connection.connection.driver_connection
    # SQLAlchemy types the driver's connection loosely; the engine is asyncpg's.
    assert isinstance(driver, asyncpg.Connection)
    await_only(direct.ensure_direct_primary(driver, "Migrating"))
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        # Instances that start together on a database behind the code queue here, the
        # first migrates, the others then find nothing to do. A transaction-level lock:
        # gone with the transaction, whatever happens to the process.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({migrate.ADVISORY_LOCK})")
        context.run_migrations()
        # In the same transaction: the function files at the head, or none below it
        # (comptoir/db/repeatable.py).
        heads = context.get_context().get_current_heads()
        at_head = set(heads) == set(context.script.get_heads())
        await_only(repeatable.apply_changed(driver) if at_head else repeatable.forget(driver))
        if len(heads) == 1:
            await_only(migrate.record_served(driver, migrate.served_by(context.script, heads[0])))


async def _run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Comptoir migrations run online only: `comptoir db upgrade`.")
asyncio.run(_run_online())
