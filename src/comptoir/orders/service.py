"""Moving an order through its states, with the stock that goes with it; unpaid orders
that expire."""

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from uuid import UUID

import asyncpg

from comptoir.db.context import SYSTEM, Context, Database
from comptoir.errors import Conflict, NotFound
from comptoir.orders import queries, states


async def move(
    db: Database,
    context: Context,
    *,
    order_id: UUID,
    target: str,
    owner: UUID | None,
    currency: str,
    only_from: str | None = None,
) -> str:
    """Move the order to `target` in one transaction; return the order document.

    `owner`: the customer who must own the order (None for an admin). `only_from`: a
    narrower rule for this caller (a customer cancels pending orders only).
    """
    async with db.transaction(context) as conn:
        order = await queries.lock_order(conn, order_id=order_id, owner=owner)
        if order is None:
            raise NotFound("No such order.")
        allowed = only_from is None or order["status"] == only_from
        if not (allowed and states.can_move(order["status"], target)):
            raise Conflict(
                f"An order that is {order['status']} cannot become {target}.",
                current_status=order["status"],
            )
        await queries.update_status(conn, order_id=order_id, status=target)
        if states.returns_stock(target):
            await queries.restock(conn, order_ids=[order_id])
        document = await queries.fetch_order_json(
            conn, order_id=order_id, owner=None, currency=currency
        )
    assert document is not None
    return document


# "expire" in ASCII: one sweeper at a time across the shop's workers and hosts. A
# transaction-level lock, gone at commit: nothing is left on a pooled connection.
EXPIRY_LOCK = 0x657870697265
EXPIRY_BATCH = 500

log = logging.getLogger("comptoir.orders")

Begin = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


async def expire_batch(conn: asyncpg.Connection, *, older_than: timedelta) -> int | None:
    """Cancel and restock up to EXPIRY_BATCH pending orders placed more than `older_than`
    ago, in the caller's transaction; how many, or None when another sweeper is at work."""
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", EXPIRY_LOCK):
        return None
    expired = await queries.lock_expired_pending(conn, older_than=older_than, limit=EXPIRY_BATCH)
    if expired:
        await queries.restock(conn, order_ids=expired)
        await queries.update_statuses(conn, order_ids=expired, status="cancelled")
    return len(expired)


async def count_expired(conn: asyncpg.Connection, *, older_than: timedelta) -> int:
    return await queries.count_expired_pending(conn, older_than=older_than)


async def expire_pending(begin: Begin, *, older_than: timedelta) -> int:
    """Every expired pending order, a batch per transaction (short locks); how many.
    `begin` opens a transaction and yields its connection (the app's pool as the system,
    or `db maintain`'s own connection)."""
    total = 0
    while True:
        async with begin() as conn:
            expired = await expire_batch(conn, older_than=older_than)
        total += expired or 0
        if expired is None or expired < EXPIRY_BATCH:
            return total


async def sweep_forever(db: Database, *, older_than: timedelta, every: float = 60.0) -> None:
    """`comptoir serve`'s background task: expire unpaid orders now, then every minute. A
    failure (the database restarting, say) is logged and the next round tries again."""
    while True:
        try:
            if expired := await expire_pending(
                lambda: db.transaction(SYSTEM), older_than=older_than
            ):
                log.info(
                    "expired %d unpaid orders older than %s; stock put back", expired, older_than
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not expire unpaid orders this round: %s", exc)
        await asyncio.sleep(every)
