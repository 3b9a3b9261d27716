"""The signing secrets every instance shares (migration 0015), when the operator set none."""

import asyncpg

KEEP = """
WITH added AS (
    INSERT INTO app_secrets (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO NOTHING
    RETURNING value
)
SELECT value FROM added
UNION ALL
SELECT value FROM app_secrets WHERE name = $1
LIMIT 1
"""


async def keep_secret(conn: asyncpg.Connection, *, name: str, candidate: str) -> str | None:
    """The secret `name`: `candidate` if none was kept yet, else the kept one. None when
    another instance is adding it in this very instant (its row was not committed when the
    statement began): ask again."""
    value: str | None = await conn.fetchval(KEEP, name, candidate)
    return value


async def fetch_secret(conn: asyncpg.Connection, *, name: str) -> str | None:
    """The kept secret `name`, if any: asked first, so that a standby (read-only) serves."""
    value: str | None = await conn.fetchval("SELECT value FROM app_secrets WHERE name = $1", name)
    return value
