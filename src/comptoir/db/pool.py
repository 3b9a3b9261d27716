"""One bounded asyncpg pool per process."""

from typing import TypeAlias

import asyncpg

from comptoir.settings import Settings

# What query functions run on: the pool (one statement, any connection) or a connection
# (inside a transaction the caller holds).
Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): a round trip on every release, for session state Comptoir never creates —
    its settings are per transaction (`SET LOCAL`, `set_config(..., true)`). asyncpg still
    rolls back a transaction left open."""


async def open_pool(url: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        reset=_keep_session,
        server_settings={
            "application_name": "comptoir",
            "default_transaction_isolation": "read committed",
            "statement_timeout": str(settings.statement_timeout_ms),
            # A session that dies inside a transaction must not hold its locks for ever.
            "idle_in_transaction_session_timeout": "60000",
            "timezone": "UTC",
        },
    )
