"""SQL of orders. Documents (order with lines) are built by `order_document()` in SQL."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from comptoir.db.pool import Executor

CURSOR_OF_ROW = "(extract(epoch FROM o.created_at) * 1000000)::bigint || '.' || o.id"

# Newest first, keyset on (created_at, id); `created_at <= $t` is written out so that it
# becomes the index condition of orders(user_id, created_at DESC) or
# orders(status, created_at DESC).
PAGE = """
WITH page AS MATERIALIZED (
    SELECT o.id, o.created_at, row_number() OVER (ORDER BY o.created_at DESC, o.id DESC) AS n
    FROM (
        SELECT o.id, o.created_at FROM orders AS o
        WHERE {filter}
          AND ($2::timestamptz IS NULL
               OR (o.created_at <= $2 AND (o.created_at, o.id) < ($2, $3::uuid)))
        ORDER BY o.created_at DESC, o.id DESC
        LIMIT $4 + 1
    ) AS o
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg(order_document(o.id, $5) ORDER BY o.n) FROM page AS o WHERE o.n <= $4),
        '[]'::json),
    'next_cursor',
        (SELECT {cursor} FROM page AS o
         WHERE o.n = $4 AND EXISTS (SELECT 1 FROM page WHERE n = $4 + 1)))
"""

USER_PAGE = PAGE.format(filter="o.user_id = $1", cursor=CURSOR_OF_ROW)
STATUS_PAGE = PAGE.format(
    filter="($1::order_status IS NULL OR o.status = $1::order_status)", cursor=CURSOR_OF_ROW
)


async def list_user_orders_json(
    db: Executor, *, user_id: UUID, after: tuple[datetime, UUID] | None, limit: int, currency: str
) -> str:
    created_at, ident = after if after else (None, None)
    page: str = await db.fetchval(USER_PAGE, user_id, created_at, ident, limit, currency)
    return page


async def list_orders_json(
    db: Executor,
    *,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    currency: str,
) -> str:
    created_at, ident = after if after else (None, None)
    page: str = await db.fetchval(STATUS_PAGE, status, created_at, ident, limit, currency)
    return page


async def fetch_order_json(
    db: Executor, *, order_id: UUID, owner: UUID | None, currency: str
) -> str | None:
    """The order document; with `owner`, only if it is theirs."""
    document: str | None = await db.fetchval(
        "SELECT order_document(o.id, $3)::text FROM orders AS o"
        " WHERE o.id = $1 AND ($2::uuid IS NULL OR o.user_id = $2)",
        order_id,
        owner,
        currency,
    )
    return document


async def lock_order(db: Executor, *, order_id: UUID, owner: UUID | None) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        "SELECT id, user_id, status::text AS status, payment_intent_id FROM orders"
        " WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE",
        order_id,
        owner,
    )
    return row


async def update_status(db: Executor, *, order_id: UUID, status: str) -> None:
    await db.execute("UPDATE orders SET status = $2::order_status WHERE id = $1", order_id, status)


async def restock(db: Executor, *, order_ids: list[UUID]) -> None:
    """Put the orders' units back in stock, locking the products in id order as checkout
    does, so that a cancellation and a checkout never deadlock."""
    await db.execute(
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


async def lock_expired_pending(db: Executor, *, older_than: timedelta, limit: int) -> list[UUID]:
    """Pending orders placed more than `older_than` ago, oldest first, locked; those another
    transaction holds (a payment arriving, a cancellation) are skipped, left for next time.
    On orders(status, created_at DESC)."""
    rows = await db.fetch(
        "SELECT id FROM orders WHERE status = 'pending' AND created_at < now() - $1::interval"
        " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        older_than,
        limit,
    )
    return [row["id"] for row in rows]


async def count_expired_pending(db: Executor, *, older_than: timedelta) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM orders"
        " WHERE status = 'pending' AND created_at < now() - $1::interval",
        older_than,
    )
    return count


async def update_statuses(db: Executor, *, order_ids: list[UUID], status: str) -> None:
    await db.execute(
        "UPDATE orders SET status = $2::order_status WHERE id = ANY ($1::uuid[])",
        order_ids,
        status,
    )


# The back office's view (GET /v1/admin/orders): each order with who placed it, filtered by
# status, customer email and period.
ADMIN_FILTER = (
    "($1::order_status IS NULL OR o.status = $1::order_status)"
    " AND ($6::citext IS NULL OR o.user_id = (SELECT u.id FROM users AS u WHERE u.email = $6))"
    " AND ($7::timestamptz IS NULL OR o.created_at >= $7)"
    " AND ($8::timestamptz IS NULL OR o.created_at < $8)"
)
ADMIN_DOCUMENT = (
    "order_document(o.id, $5) || (SELECT jsonb_build_object('customer', jsonb_build_object("
    "'id', u.id, 'email', u.email::text, 'name', u.name))"
    " FROM orders AS oo JOIN users AS u ON u.id = oo.user_id WHERE oo.id = o.id)"
)
ADMIN_PAGE = PAGE.format(filter=ADMIN_FILTER, cursor=CURSOR_OF_ROW).replace(
    "order_document(o.id, $5)", ADMIN_DOCUMENT
)


@dataclass(frozen=True)
class AdminFilter:
    status: str | None = None
    email: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_admin_orders_json(
    conn: asyncpg.Connection,
    *,
    filters: AdminFilter,
    after: tuple[datetime, UUID] | None,
    limit: int,
    currency: str,
) -> str:
    created_at, ident = after if after else (None, None)
    page: str = await conn.fetchval(
        ADMIN_PAGE,
        filters.status,
        created_at,
        ident,
        limit,
        currency,
        filters.email,
        filters.since,
        filters.until,
    )
    return page


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
    query = (
        "SELECT o.id, o.created_at, o.status::text AS status, o.total_amount::text AS total,"
        " u.email::text AS email, u.name, o.shipping_address::text AS shipping,"
        " o.billing_address::text AS billing, oi.product_id, p.name AS product, oi.quantity,"
        " oi.unit_price::text AS unit_price"
        " FROM orders AS o JOIN users AS u ON u.id = o.user_id"
        " JOIN order_items AS oi ON oi.order_id = o.id"
        " JOIN products AS p ON p.id = oi.product_id"
        " WHERE "
        + ADMIN_FILTER.replace("$6", "$2").replace("$7", "$3").replace("$8", "$4")
        + " ORDER BY o.created_at, o.id, p.name, oi.id"
    )
    async for row in conn.cursor(
        query, filters.status, filters.email, filters.since, filters.until, prefetch=prefetch
    ):
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
