"""Moving an order through its states, with the stock that goes with it; unpaid orders
that expire."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from uuid import UUID

import asyncpg

from comptoir.db.door import Door
from comptoir.db.maintain import Chore
from comptoir.db.pool import CONNECTION_TROUBLE
from comptoir.errors import Conflict, NotFound
from comptoir.orders import queries, states


async def move(
    db: Door,
    *,
    order_id: UUID,
    target: str,
    owner: UUID | None,
    currency: str,
    only_from: str | None = None,
    within: Callable[[asyncpg.Connection, queries.LockedOrder], Awaitable[None]] | None = None,
) -> str:
    """Move the order to `target` in one transaction; return the order document.

    `owner`: the customer who must own the order (None for an admin). `only_from`: a
    narrower rule for this caller (a customer cancels pending orders only). `within`: what
    else belongs to the move, in its transaction, given the order as it was (a refund owed
    when a paid order is cancelled: payments/service.py).
    """
    async with db.transaction() as conn:
        order = await queries.lock_order(conn, order_id=order_id, owner=owner)
        if order is None:
            raise NotFound("No such order.")
        allowed = only_from is None or order.status == only_from
        if not (allowed and states.can_move(order.status, target)):
            raise Conflict(
                f"An order that is {order.status} cannot become {target}.",
                current_status=order.status,
            )
        await queries.update_status(conn, order_id=order_id, status=target)
        if states.returns_stock(target):
            await queries.restock(conn, order_ids=[order_id])
        if within is not None:
            await within(conn, order)
        document = await queries.fetch_order_json(
            conn, order_id=order_id, owner=None, currency=currency
        )
    assert document is not None
    return document


async def lock(conn: asyncpg.Connection, *, order_id: UUID) -> queries.LockedOrder | None:
    """Any order, locked until the caller's transaction ends (the payment provider's view)."""
    return await queries.lock_order(conn, order_id=order_id, owner=None)


async def mark_paid(conn: asyncpg.Connection, *, order_id: UUID, payment_intent_id: str) -> bool:
    """pending → paid, in the caller's transaction, the order locked by `lock`: the one
    place besides `move` where an order's status is written. False when the intent already
    paid another order."""
    assert states.can_move("pending", "paid")
    return await queries.update_paid(conn, order_id=order_id, payment_intent_id=payment_intent_id)


EXPIRY_BATCH = 500

log = logging.getLogger("comptoir.orders")

Begin = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


async def expire_batch(conn: asyncpg.Connection, *, older_than: timedelta) -> int | None:
    """Cancel and restock up to EXPIRY_BATCH pending orders placed more than `older_than`
    ago, in the caller's transaction; how many, or None when another sweeper is at work."""
    if not await queries.try_lock_expiry(conn):
        return None
    expired = await queries.lock_expired_pending(conn, older_than=older_than, limit=EXPIRY_BATCH)
    if expired:
        await queries.restock(conn, order_ids=expired)
        await queries.update_statuses(conn, order_ids=expired, status="cancelled")
    return len(expired)


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


async def sweep_forever(
    db: Door,
    *,
    older_than: timedelta,
    every: float = 60.0,
    then: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """`comptoir serve`'s background task: expire unpaid orders now, then every minute,
    through `db`, the system's door, and `then` (the payment provider's intents of the
    orders expired are cancelled). A failure (the database restarting, say) is logged and
    the next round tries again: whatever a round raises, the expiry goes on."""
    while True:
        try:
            if expired := await expire_pending(db.transaction, older_than=older_than):
                log.info(
                    "expired %d unpaid orders older than %s; stock put back", expired, older_than
                )
            if then is not None:
                await then()
        except CONNECTION_TROUBLE as exc:
            log.warning("could not expire unpaid orders this round: %s", exc)
        except Exception:
            log.exception("could not expire unpaid orders this round")
        await asyncio.sleep(every)


def expiry_chore(older_than: timedelta) -> Chore:
    """The same expiry as `comptoir db maintain`'s chore, on its own connection."""

    async def run(conn: asyncpg.Connection, dry_run: bool) -> list[str]:
        if dry_run:
            count = await queries.count_expired_pending(conn, older_than=older_than)
            return [f"would cancel {count} unpaid orders older than {older_than}"] if count else []
        expired = await expire_pending(lambda: _in_transaction(conn), older_than=older_than)
        if not expired:
            return []
        return [f"cancelled {expired} unpaid orders older than {older_than}; stock put back"]

    return Chore("unpaid orders past their time", run)


@asynccontextmanager
async def _in_transaction(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    async with conn.transaction():
        yield conn
