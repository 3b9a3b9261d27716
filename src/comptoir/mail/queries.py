"""SQL of the outbox (migration 0012)."""

import json
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class OutboxEmail:
    id: int
    kind: str
    recipient: str
    payload: dict[str, Any]
    attempts: int


async def insert_email(
    conn: asyncpg.Connection, *, kind: str, recipient: str, payload: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO outbox_emails (kind, recipient, payload) VALUES ($1, $2, $3::jsonb)",
        kind,
        recipient,
        json.dumps(payload),
    )


async def lock_due_emails(conn: asyncpg.Connection, *, limit: int) -> list[OutboxEmail]:
    """Due mails, oldest first, locked for this transaction; rows another sender holds are
    skipped, so workers share the outbox without sending a mail twice."""
    rows = await conn.fetch(
        "SELECT id, kind, recipient, payload::text AS payload, attempts FROM outbox_emails"
        " WHERE next_attempt_at <= now() ORDER BY next_attempt_at, id"
        " LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
    )
    return [
        OutboxEmail(
            id=r["id"],
            kind=r["kind"],
            recipient=r["recipient"],
            payload=json.loads(r["payload"]),
            attempts=r["attempts"],
        )
        for r in rows
    ]


async def delete_emails(conn: asyncpg.Connection, *, email_ids: list[int]) -> None:
    await conn.execute("DELETE FROM outbox_emails WHERE id = ANY ($1::bigint[])", email_ids)


async def update_email_failed(
    conn: asyncpg.Connection, *, email_id: int, error: str, retry_in_seconds: float
) -> None:
    await conn.execute(
        "UPDATE outbox_emails SET attempts = attempts + 1, last_error = $2,"
        " next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
        email_id,
        error[:1000],
        retry_in_seconds,
    )
