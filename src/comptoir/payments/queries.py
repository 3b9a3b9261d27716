"""SQL of payments: each order's payment at its provider, and every provider event that
was applied, with what it decided."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

from comptoir.payments.provider import ProviderEvent


async def insert_event(conn: asyncpg.Connection, *, event: ProviderEvent, payload: str) -> bool:
    """Record a new event (result to be decided); False when its id is already recorded: a
    second delivery, which must change nothing."""
    recorded = await conn.fetchval(
        "INSERT INTO payment_events (event_id, provider, type, payment_intent_id, outcome,"
        " result, payload, amount, currency)"
        " VALUES ($1, $2, $3, $4, $5, 'unknown_order', $6::jsonb, $7, $8)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
        event.event_id,
        event.provider,
        event.type,
        event.intent_id,
        event.outcome,
        payload,
        event.amount,
        event.currency,
    )
    return recorded is True


async def fetch_event_result(conn: asyncpg.Connection, *, event_id: str) -> str:
    result: str = await conn.fetchval(
        "SELECT result FROM payment_events WHERE event_id = $1", event_id
    )
    return result


async def update_event_result(
    conn: asyncpg.Connection, *, event_id: str, result: str, order_id: UUID | None
) -> None:
    await conn.execute(
        "UPDATE payment_events SET result = $2, order_id = $3 WHERE event_id = $1",
        event_id,
        result,
        order_id,
    )


@dataclass(frozen=True)
class Payment:
    order_id: UUID
    order_status: str
    provider: str
    status: str
    intent_id: str | None
    client_secret: str | None
    amount: Decimal
    currency: str
    refund_status: str | None
    refund_amount: Decimal | None
    created_at: datetime


COLUMNS = (
    "p.order_id, o.status::text AS order_status, p.provider, p.status, p.intent_id,"
    " p.client_secret, p.amount, p.currency, p.refund_status, p.refund_amount, p.created_at"
    " FROM payments AS p JOIN orders AS o ON o.id = p.order_id"
)


async def fetch_payment(conn: asyncpg.Connection, *, order_id: UUID) -> Payment | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} WHERE p.order_id = $1", order_id)
    return Payment(**row) if row else None


async def lock_payment(conn: asyncpg.Connection, *, order_id: UUID) -> Payment | None:
    """The payment, locked to the caller's transaction end (its order locked first by the
    caller: orders, then payments, everywhere)."""
    row = await conn.fetchrow(f"SELECT {COLUMNS} WHERE p.order_id = $1 FOR UPDATE OF p", order_id)
    return Payment(**row) if row else None


async def insert_payment(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    provider: str,
    amount: Decimal,
    currency: str,
    intent_id: str | None = None,
) -> None:
    """The order's payment, if it has none yet. An intent already recorded on another
    order's payment is left out (it pays at most one order)."""
    await conn.execute(
        "INSERT INTO payments (order_id, provider, amount, currency, intent_id)"
        " VALUES ($1, $2, $3, $4,"
        "  CASE WHEN NOT EXISTS (SELECT FROM payments WHERE intent_id = $5) THEN $5 END)"
        " ON CONFLICT (order_id) DO NOTHING",
        order_id,
        provider,
        amount,
        currency,
        intent_id,
    )


async def update_intent(
    conn: asyncpg.Connection, *, order_id: UUID, intent_id: str, client_secret: str | None
) -> None:
    """Record the provider's intent on the order's payment (once: a retry brings the same)."""
    await conn.execute(
        "UPDATE payments SET intent_id = $2, client_secret = coalesce($3, client_secret)"
        " WHERE order_id = $1 AND (intent_id IS NULL OR intent_id = $2)"
        "  AND NOT EXISTS (SELECT FROM payments WHERE intent_id = $2 AND order_id <> $1)",
        order_id,
        intent_id,
        client_secret,
    )


async def update_status(conn: asyncpg.Connection, *, order_id: UUID, status: str) -> None:
    await conn.execute("UPDATE payments SET status = $2 WHERE order_id = $1", order_id, status)


async def update_refund(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    status: str,
    amount: Decimal,
    refund_id: str | None,
) -> None:
    """The refund's state: a final one (succeeded, failed) is never taken back to pending by
    an event that arrives late."""
    await conn.execute(
        "UPDATE payments SET refund_status = $2, refund_amount = coalesce(refund_amount, $3),"
        " refund_id = coalesce($4, refund_id)"
        " WHERE order_id = $1"
        "  AND NOT (coalesce(refund_status IN ('succeeded', 'failed'), false) AND $2 = 'pending')",
        order_id,
        status,
        amount,
        refund_id,
    )


async def list_to_reconcile(
    conn: asyncpg.Connection, *, provider: str, since: datetime, limit: int
) -> list[Payment]:
    """What a lost webhook may have left behind: payments placed since `since` whose order
    still waits for one (pending), or was cancelled while its intent may still take money,
    and refunds not settled. On payments_open_idx."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} WHERE p.provider = $1 AND p.created_at >= $2"
        " AND (p.status IN ('requires_payment', 'failed') OR p.refund_status = 'pending')"
        " ORDER BY p.created_at LIMIT $3",
        provider,
        since,
        limit,
    )
    return [Payment(**row) for row in rows]


async def list_to_cancel(
    conn: asyncpg.Connection, *, provider: str, order_id: UUID | None, limit: int
) -> list[Payment]:
    """Cancelled orders (by their customer, an admin, or the expiry) whose intent could
    still take money: their intent is to be cancelled at the provider."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} WHERE p.provider = $1 AND o.status = 'cancelled'"
        " AND p.status IN ('requires_payment', 'failed') AND p.intent_id IS NOT NULL"
        " AND ($3::uuid IS NULL OR p.order_id = $3)"
        " ORDER BY p.created_at LIMIT $2",
        provider,
        limit,
        order_id,
    )
    return [Payment(**row) for row in rows]
