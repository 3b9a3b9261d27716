"""SQL of the demo shop: bulk writes into an empty database, in the caller's transaction."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import asyncpg

# (name, price, stock, active, created_at)
ProductRow = tuple[str, Decimal, int, bool, datetime]
# (email, password_hash, role, name)
UserRow = tuple[str, str, str, str]


async def fetch_is_empty(conn: asyncpg.Connection) -> bool:
    busy: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM products)"
    )
    return not busy


async def copy_products(conn: asyncpg.Connection, *, rows: list[ProductRow]) -> None:
    await conn.copy_records_to_table(
        "products", records=rows, columns=["name", "price", "stock", "active", "created_at"]
    )


async def list_products_on_sale(conn: asyncpg.Connection) -> list[tuple[UUID, Decimal]]:
    rows = await conn.fetch("SELECT id, price FROM products WHERE active ORDER BY id")
    return [(row["id"], row["price"]) for row in rows]


async def insert_users(conn: asyncpg.Connection, *, rows: list[UserRow]) -> None:
    await conn.executemany(
        "INSERT INTO users (email, password_hash, role, name) VALUES ($1, $2, $3, $4)", rows
    )


async def list_customer_ids(conn: asyncpg.Connection) -> list[UUID]:
    return [row["id"] for row in await conn.fetch("SELECT id FROM users WHERE role = 'customer'")]


async def insert_order(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    status: str,
    lines: dict[UUID, tuple[int, Decimal]],
    hours_ago: int,
    payment_intent_id: str | None,
) -> None:
    """An order and its lines; the stock it took, unless cancelled (as checkout left it)."""
    order = await conn.fetchval(
        "INSERT INTO orders (user_id, status, total_amount, created_at, payment_intent_id)"
        " VALUES ($1, $2, $3, now() - make_interval(hours => $4), $5) RETURNING id",
        user_id,
        status,
        sum(quantity * price for quantity, price in lines.values()),
        hours_ago,
        payment_intent_id,
    )
    await conn.executemany(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
        " VALUES ($1, $2, $3, $4)",
        [(order, product, quantity, price) for product, (quantity, price) in lines.items()],
    )
    if status != "cancelled":
        await conn.executemany(
            "UPDATE products SET stock = stock - $2 WHERE id = $1",
            [(product, quantity) for product, (quantity, _) in lines.items()],
        )


async def insert_cart(
    conn: asyncpg.Connection, *, user_id: UUID, lines: list[tuple[UUID, int]]
) -> None:
    cart = await conn.fetchval("INSERT INTO carts (user_id) VALUES ($1) RETURNING id", user_id)
    await conn.executemany(
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)",
        [(cart, product, quantity) for product, quantity in lines],
    )


async def insert_leads(conn: asyncpg.Connection, *, rows: list[tuple[str, str, str, int]]) -> None:
    """(name, email, message, hours ago)."""
    await conn.executemany(
        "INSERT INTO leads (name, email, message, created_at)"
        " VALUES ($1, $2, $3, now() - make_interval(hours => $4))",
        rows,
    )


async def copy_events(
    conn: asyncpg.Connection, *, rows: list[tuple[str, UUID | None, str, datetime]]
) -> None:
    """(event_type, user_id, payload JSON, created_at); the months they span need their
    partitions (the migration made this month's)."""
    await conn.execute("SELECT create_analytics_events_partitions(now() - interval '1 month', 3)")
    await conn.copy_records_to_table(
        "analytics_events", records=rows, columns=["event_type", "user_id", "payload", "created_at"]
    )
