"""Rows of a large read, a batch at a time, through a cursor declared in SQL.

asyncpg's `conn.cursor()` prepares a named statement (`__asyncpg_stmt_N__`), which outlives
the transaction on its server session: behind a pooler in transaction mode, another process
that lands on that session later finds the name taken, or its own statement replaced (an
export came back cut off). `DECLARE ... CURSOR` and `FETCH` are plain statements on the
unnamed statement, and the cursor ends with the transaction: nothing stays behind.
"""

from collections.abc import AsyncIterator
from contextlib import suppress

import asyncpg

CURSOR = "comptoir_rows"


async def fetch_in_batches(
    conn: asyncpg.Connection, query: str, *args: object, batch: int
) -> AsyncIterator[asyncpg.Record]:
    """Every row of `query`, `batch` at a time in memory. Call inside a transaction (the
    cursor lives in it), one at a time per transaction."""
    await conn.execute(f"DECLARE {CURSOR} NO SCROLL CURSOR FOR {query}", *args)
    try:
        while rows := await conn.fetch(f"FETCH FORWARD {int(batch)} FROM {CURSOR}"):
            for row in rows:
                yield row
    finally:
        # A failed transaction has dropped the cursor already (and refuses CLOSE).
        with suppress(asyncpg.PostgresError, asyncpg.InterfaceError):
            await conn.execute(f"CLOSE {CURSOR}")
