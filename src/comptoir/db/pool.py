"""One bounded asyncpg pool per process."""

import asyncpg

from comptoir.settings import Settings


async def open_pool(url: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        server_settings={
            "application_name": "comptoir",
            "default_transaction_isolation": "read committed",
            "statement_timeout": str(settings.statement_timeout_ms),
            # A session that dies inside a transaction must not hold its locks for ever.
            "idle_in_transaction_session_timeout": "60000",
            "timezone": "UTC",
        },
    )
