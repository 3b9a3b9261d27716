"""SQL of the catalog.

The customer-facing reads build their JSON inside PostgreSQL (json_build_object, json_agg)
and hand it to the response as it is: no rows decoded into Python objects, no Pydantic
validation, no re-encoding — that is most of a naive handler's time.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from comptoir.db.pool import Executor

# $1 is always the shop's currency. Money as text keeps its two places: numeric(12,2)
# prints as "19.90", never as a float.
PRODUCT_JSON = """json_build_object(
    'id', p.id, 'name', p.name, 'description', p.description, 'price', p.price::text,
    'currency', $1::text, 'stock', p.stock, 'active', p.active,
    'attributes', p.attributes, 'created_at', p.created_at, 'updated_at', p.updated_at,
    'deleted_at', p.deleted_at)"""

# The keyset cursor is the last row's `<epoch microseconds>.<id>`.
CURSOR_OF_ROW = "(extract(epoch FROM p.created_at) * 1000000)::bigint || '.' || p.id"

VISIBLE = "p.active AND p.deleted_at IS NULL"

# Two statements rather than one with `$2 IS NULL OR ...`: each keeps one plan that
# PostgreSQL can cache, instead of being planned again on every call.
# `created_at <= $2` is implied by the row comparison; written out, it becomes the index
# condition on products(active, created_at DESC) WHERE deleted_at IS NULL.
PAGE = """
WITH page AS MATERIALIZED (
    SELECT p.*, row_number() OVER (ORDER BY p.created_at DESC, p.id DESC) AS n
    FROM (
        SELECT * FROM products AS p
        WHERE {visible} {after}
        ORDER BY p.created_at DESC, p.id DESC
        LIMIT $2 + 1
    ) AS p
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg({product} ORDER BY p.n) FROM page AS p WHERE p.n <= $2),
        '[]'::json),
    'next_cursor',
        (SELECT {cursor} FROM page AS p
         WHERE p.n = $2 AND EXISTS (SELECT 1 FROM page WHERE n = $2 + 1)))
"""
FIRST_PAGE = PAGE.format(visible=VISIBLE, after="", product=PRODUCT_JSON, cursor=CURSOR_OF_ROW)
NEXT_PAGE = PAGE.format(
    visible=VISIBLE,
    after="AND p.created_at <= $3 AND (p.created_at, p.id) < ($3, $4::uuid)",
    product=PRODUCT_JSON,
    cursor=CURSOR_OF_ROW,
)


async def list_page_json(
    db: Executor, *, currency: str, after: tuple[datetime, UUID] | None, limit: int
) -> str:
    if after is None:
        first: str = await db.fetchval(FIRST_PAGE, currency, limit)
        return first
    page: str = await db.fetchval(NEXT_PAGE, currency, limit, *after)
    return page


async def fetch_product_json(
    db: Executor, *, currency: str, product_id: UUID, hidden_too: bool
) -> str | None:
    row: str | None = await db.fetchval(
        f"SELECT {PRODUCT_JSON} FROM products AS p WHERE p.id = $2 AND ($3 OR ({VISIBLE}))",
        currency,
        product_id,
        hidden_too,
    )
    return row


async def insert_product_json(
    db: Executor,
    *,
    currency: str,
    name: str,
    description: str,
    price: Decimal,
    stock: int,
    active: bool,
) -> str:
    row: str = await db.fetchval(
        "WITH p AS (INSERT INTO products (name, description, price, stock, active)"
        " VALUES ($2, $3, $4, $5, $6) RETURNING *)"
        f" SELECT {PRODUCT_JSON} FROM p",
        currency,
        name,
        description,
        price,
        stock,
        active,
    )
    return row


EDITABLE = ("name", "description", "price", "stock", "active")


async def update_product_json(
    db: Executor, *, currency: str, product_id: UUID, changes: dict[str, Any]
) -> str | None:
    """Apply `changes` (a subset of EDITABLE) to a product that is not deleted."""
    columns = [c for c in EDITABLE if c in changes]
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=3))
    row: str | None = await db.fetchval(
        f"WITH p AS (UPDATE products SET {assignments or 'id = id'}"
        " WHERE id = $2 AND deleted_at IS NULL RETURNING *)"
        f" SELECT {PRODUCT_JSON} FROM p",
        currency,
        product_id,
        *(changes[c] for c in columns),
    )
    return row


async def soft_delete_product(db: Executor, *, product_id: UUID) -> bool:
    deleted: UUID | None = await db.fetchval(
        "UPDATE products SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id",
        product_id,
    )
    return deleted is not None
