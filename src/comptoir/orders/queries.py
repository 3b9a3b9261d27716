"""SQL of orders. Documents (order with lines) are built by `order_document()` in SQL."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg

from comptoir.orders.states import Status
from comptoir.pagination import Arguments, newest_first

# PostgreSQL builds each order's document (order_document(), db/functions/).
ORDER_JSON = "order_document(o.id, $1)"


async def list_user_orders_json(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    after: tuple[datetime, UUID] | None,
    limit: int,
    currency: str,
) -> str:
    """A customer's orders, newest first, on orders(user_id, created_at DESC)."""
    args = Arguments(currency)
    where = [f"o.user_id = {args.add(user_id, 'uuid')}"]
    sql = newest_first(
        args, source="orders AS o", alias="o", where=where, item=ORDER_JSON,
        after=after, limit=limit,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page


async def list_orders_json(
    conn: asyncpg.Connection,
    *,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    currency: str,
) -> str:
    """All orders newest first, on orders(status, created_at DESC) for a status."""
    args = Arguments(currency)
    where = [] if status is None else [f"o.status = {args.add(status, 'order_status')}"]
    sql = newest_first(
        args, source="orders AS o", alias="o", where=where, item=ORDER_JSON,
        after=after, limit=limit,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page


async def fetch_order_json(
    conn: asyncpg.Connection, *, order_id: UUID, owner: UUID | None, currency: str
) -> str | None:
    """The order document; with `owner`, only if it is theirs."""
    document: str | None = await conn.fetchval(
        "SELECT order_document(o.id, $3)::text FROM orders AS o"
        " WHERE o.id = $1 AND ($2::uuid IS NULL OR o.user_id = $2)",
        order_id,
        owner,
        currency,
    )
    return document


@dataclass(frozen=True)
class LockedOrder:
    id: UUID
    user_id: UUID
    status: Status
    payment_intent_id: str | None
    total_amount: Decimal


async def lock_order(
    conn: asyncpg.Connection, *, order_id: UUID, owner: UUID | None
) -> LockedOrder | None:
    row = await conn.fetchrow(
        "SELECT id, user_id, status::text AS status, payment_intent_id, total_amount FROM orders"
        " WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE",
        order_id,
        owner,
    )
    return LockedOrder(**row) if row else None


async def update_status(conn: asyncpg.Connection, *, order_id: UUID, status: str) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2::order_status WHERE id = $1", order_id, status
    )


async def restock(conn: asyncpg.Connection, *, order_ids: list[UUID]) -> None:
    """Put the orders' units back in stock, locking the products in id order as checkout
    does, so that a cancellation and a checkout never deadlock."""
    await conn.execute(
        """
        WITH units AS (
            SELECT product_id, sum(quantity) AS quantity FROM order_items
            WHERE order_id = ANY ($1::uuid[]) GROUP BY product_id
        ), locked AS (
            SELECT p.id FROM products AS p
            WHERE p.id IN (SELECT product_id FROM units)
            ORDER BY p.id FOR UPDATE
        )
        UPDATE products AS p SET stock = p.stock + units.quantity
        FROM units, locked
        WHERE p.id = units.product_id AND locked.id = p.id
        """,
        order_ids,
    )


# "expire" in ASCII: one sweeper at a time across the shop's workers and hosts. A
# transaction-level lock, gone at commit: nothing is left on a pooled connection.
EXPIRY_LOCK = 0x657870697265


async def try_lock_expiry(conn: asyncpg.Connection) -> bool:
    locked: bool = await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", EXPIRY_LOCK)
    return locked


async def lock_expired_pending(
    conn: asyncpg.Connection, *, older_than: timedelta, limit: int
) -> list[UUID]:
    """Pending orders placed more than `older_than` ago, oldest first, locked; those another
    transaction holds (a payment arriving, a cancellation) are skipped, left for next time.
    On orders(status, created_at DESC)."""
    rows = await conn.fetch(
        "SELECT id FROM orders WHERE status = 'pending' AND created_at < now() - $1::interval"
        " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        older_than,
        limit,
    )
    return [row["id"] for row in rows]


async def count_expired_pending(conn: asyncpg.Connection, *, older_than: timedelta) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM orders"
        " WHERE status = 'pending' AND created_at < now() - $1::interval",
        older_than,
    )
    return count


async def update_statuses(conn: asyncpg.Connection, *, order_ids: list[UUID], status: str) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2::order_status WHERE id = ANY ($1::uuid[])",
        order_ids,
        status,
    )


async def update_paid(conn: asyncpg.Connection, *, order_id: UUID, payment_intent_id: str) -> bool:
    """Mark the order paid by this intent; False when the intent already paid another order
    (orders.payment_intent_id is unique), and then nothing is written."""
    try:
        async with conn.transaction():  # a savepoint: the unique violation must not abort all
            await conn.execute(
                "UPDATE orders SET status = 'paid', payment_intent_id = $2 WHERE id = $1",
                order_id,
                payment_intent_id,
            )
    except asyncpg.UniqueViolationError:
        return False
    return True


@dataclass(frozen=True)
class AdminFilter:
    """The back office's filters (GET /v1/admin/orders): status, customer email, period."""

    status: str | None = None
    email: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, args: Arguments) -> list[str]:
        """Only the filters asked for: orders(status, created_at DESC) for a status,
        orders(user_id, created_at DESC) through users(email) for a customer."""
        clauses = []
        if self.status is not None:
            clauses.append(f"o.status = {args.add(self.status, 'order_status')}")
        if self.email is not None:
            email = args.add(self.email, "citext")
            clauses.append(f"o.user_id = (SELECT u.id FROM users AS u WHERE u.email = {email})")
        if self.since is not None:
            clauses.append(f"o.created_at >= {args.add(self.since, 'timestamptz')}")
        if self.until is not None:
            clauses.append(f"o.created_at < {args.add(self.until, 'timestamptz')}")
        return clauses


# The order document, with who placed it and its payment as the back office sees it.
ADMIN_DOCUMENT = (
    "order_document(o.id, $1) || (SELECT jsonb_build_object('customer', jsonb_build_object("
    "'id', u.id, 'email', u.email::text, 'name', u.name),"
    " 'payment', document_payment(o.id, true))"
    " FROM users AS u WHERE u.id = o.user_id)"
)


async def list_admin_orders_json(
    conn: asyncpg.Connection,
    *,
    filters: AdminFilter,
    after: tuple[datetime, UUID] | None,
    limit: int,
    currency: str,
) -> str:
    args = Arguments(currency)
    sql = newest_first(
        args, source="orders AS o", alias="o", where=filters.where(args), item=ADMIN_DOCUMENT,
        after=after, limit=limit,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page


async def fetch_admin_order_json(
    conn: asyncpg.Connection, *, order_id: UUID, currency: str
) -> str | None:
    document: str | None = await conn.fetchval(
        f"SELECT ({ADMIN_DOCUMENT})::text FROM orders AS o WHERE o.id = $2", currency, order_id
    )
    return document


@dataclass(frozen=True)
class FulfilmentLine:
    order_id: UUID
    created_at: datetime
    status: str
    total: str
    email: str
    name: str | None
    shipping: dict[str, str | None] | None
    billing: dict[str, str | None] | None
    product_id: UUID
    product: str
    quantity: int
    unit_price: str


async def iter_fulfilment_lines(
    conn: asyncpg.Connection, *, filters: AdminFilter, prefetch: int
) -> AsyncIterator[FulfilmentLine]:
    """Every line of the filtered orders, oldest order first, through a server-side cursor
    (the caller's transaction)."""
    args = Arguments()
    where = " AND ".join(filters.where(args)) or "true"
    query = (
        "SELECT o.id, o.created_at, o.status::text AS status, o.total_amount::text AS total,"
        " u.email::text AS email, u.name, o.shipping_address::text AS shipping,"
        " o.billing_address::text AS billing, oi.product_id, p.name AS product, oi.quantity,"
        " oi.unit_price::text AS unit_price"
        " FROM orders AS o JOIN users AS u ON u.id = o.user_id"
        " JOIN order_items AS oi ON oi.order_id = o.id"
        " JOIN products AS p ON p.id = oi.product_id"
        f" WHERE {where}"
        " ORDER BY o.created_at, o.id, p.name, oi.id"
    )
    async for row in conn.cursor(query, *args.values, prefetch=prefetch):
        yield FulfilmentLine(
            order_id=row["id"],
            created_at=row["created_at"],
            status=row["status"],
            total=row["total"],
            email=row["email"],
            name=row["name"],
            shipping=json.loads(row["shipping"]) if row["shipping"] else None,
            billing=json.loads(row["billing"]) if row["billing"] else None,
            product_id=row["product_id"],
            product=row["product"],
            quantity=row["quantity"],
            unit_price=row["unit_price"],
        )
