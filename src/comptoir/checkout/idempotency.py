"""Idempotency keys of checkout: the same key again returns the same order, once.

A key is claimed by inserting it in the checkout's own transaction. A concurrent duplicate
blocks on the primary key until the first transaction ends: it then finds the stored
response (first committed) or claims the key itself (first rolled back, nothing was made).
Only successful checkouts are kept: a refused one (empty cart, short stock) rolls back with
its key, and the same key may be tried again once the cart is fixed.
"""

import hashlib
import json
from typing import Any
from uuid import UUID

import asyncpg

TTL_HOURS = 24


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def claim(conn: asyncpg.Connection, *, user_id: UUID, key: str, fingerprint: str) -> bool:
    """Claim the key for this transaction; False when a committed checkout holds it."""
    # An expired key is free again: forget it first (maintenance purges the rest).
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND expires_at < now()",
        user_id,
        key,
    )
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, expires_at)"
        f" VALUES ($1, $2, $3, now() + interval '{TTL_HOURS} hours')"
        " ON CONFLICT (user_id, key) DO NOTHING RETURNING true",
        user_id,
        key,
        fingerprint,
    )
    return bool(claimed)


async def fetch_stored(
    conn: asyncpg.Connection, *, user_id: UUID, key: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT fingerprint, status_code, response::text AS response FROM idempotency_keys"
        " WHERE user_id = $1 AND key = $2",
        user_id,
        key,
    )
    return row
