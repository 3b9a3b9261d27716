"""Owner work (migrations, partition upkeep, `db maintain`) goes to PostgreSQL itself.

Those commands take session advisory locks and `SET`s that belong to one server session.
Through a pooler in transaction mode the next transaction may run on another server
connection, and what the command leaves behind stays on a pooled one (a lock left there once
made a later `serve` hang at start). A pooler shows itself at connection: PostgreSQL tells
the client the process id of its backend, a pooler a key of its own; so the two ids differ.
"""

import asyncpg


class BehindPooler(RuntimeError):
    """Owner work was pointed at a pooler."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs a direct connection to PostgreSQL, and this URL reaches it through"
            " a connection pooler (PgBouncer): give DATABASE_URL PostgreSQL's own address and"
            " the pooler's to COMPTOIR_APP_DATABASE_URL (docs/deployment.md)."
        )


class OnStandby(RuntimeError):
    """Owner work was pointed at a read-only replica."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} writes, and this URL reaches a standby (a read-only replica): give"
            " DATABASE_URL the primary's address (docs/deployment.md)."
        )


async def through_pooler(conn: asyncpg.Connection) -> bool:
    backend: int = await conn.fetchval("SELECT pg_backend_pid()")
    return conn.get_server_pid() != backend


async def on_standby(conn: asyncpg.Connection) -> bool:
    standby: bool = await conn.fetchval("SELECT pg_is_in_recovery()")
    return standby


async def ensure_direct_primary(conn: asyncpg.Connection, what: str) -> None:
    if await through_pooler(conn):
        raise BehindPooler(what)
    if await on_standby(conn):
        raise OnStandby(what)


async def connect_owner(url: str, what: str) -> asyncpg.Connection:
    """A connection for owner work, refused behind a pooler or on a standby."""
    conn = await asyncpg.connect(url)
    try:
        await ensure_direct_primary(conn, what)
    except BaseException:
        await conn.close()
        raise
    return conn


async def is_standby(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return await on_standby(conn)
    finally:
        await conn.close()
