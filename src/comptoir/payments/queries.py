"""SQL of payment events: every delivery that carried a new event, with what it decided."""

import json
from uuid import UUID

import asyncpg

from comptoir.payments.schemas import PaymentEvent


async def insert_event(conn: asyncpg.Connection, *, event: PaymentEvent) -> bool:
    """Record a new event (result to be decided); False when its id is already recorded: a
    second delivery, which must change nothing."""
    recorded = await conn.fetchval(
        "INSERT INTO payment_events"
        " (event_id, payment_intent_id, outcome, result, payload, amount, currency)"
        " VALUES ($1, $2, $3, 'unknown_order', $4::jsonb, $5, $6)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
        event.event_id,
        event.payment_intent_id,
        event.outcome,
        json.dumps(event.model_dump(mode="json")),
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
