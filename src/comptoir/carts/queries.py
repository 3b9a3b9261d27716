"""SQL of the cart: one per user, lines keyed by product."""

from uuid import UUID

import asyncpg

from comptoir.db.pool import Executor

# Totals at current prices, computed by the database. A line whose product was deleted or
# deactivated since it was added is shown as unavailable and left out of the total.
CART_JSON = """
SELECT json_build_object(
    'items', coalesce(json_agg(json_build_object(
        'product_id', p.id,
        'name', p.name,
        'unit_price', p.price::text,
        'quantity', ci.quantity,
        'line_total', CASE WHEN p.active AND p.deleted_at IS NULL
                           THEN (p.price * ci.quantity)::text END,
        'available', p.active AND p.deleted_at IS NULL,
        'in_stock', p.stock >= ci.quantity
    ) ORDER BY ci.created_at, p.id) FILTER (WHERE ci.id IS NOT NULL), '[]'::json),
    'total', coalesce(sum(p.price * ci.quantity)
                      FILTER (WHERE p.active AND p.deleted_at IS NULL), 0.00)::text,
    'currency', $2::text)
FROM carts AS c
JOIN cart_items AS ci ON ci.cart_id = c.id
JOIN products AS p ON p.id = ci.product_id
WHERE c.user_id = $1
"""


async def fetch_cart_json(db: Executor, *, user_id: UUID, currency: str) -> str:
    cart: str = await db.fetchval(CART_JSON, user_id, currency)
    return cart


# One statement (one round trip, atomic): check the product can be sold in this quantity,
# create the cart on first use (an upsert on carts(user_id): two first requests at once make
# one cart), and set the line's quantity (an upsert on cart_items(cart_id, product_id)).
SET_LINE = """
WITH product AS (
    SELECT id, stock FROM products WHERE id = $2 AND active AND deleted_at IS NULL
), cart AS (
    INSERT INTO carts (user_id)
    SELECT $1 FROM product WHERE product.stock >= $3
    ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
    RETURNING id
), line AS (
    INSERT INTO cart_items (cart_id, product_id, quantity)
    SELECT cart.id, $2, $3 FROM cart
    ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity
    RETURNING 1
)
SELECT (SELECT stock FROM product) AS stock, EXISTS (SELECT 1 FROM line) AS written
"""


def ensure_cart_sql(user_id: UUID) -> str:
    """The caller's cart, created if missing, as parameterless SQL (a UUID's own text)."""
    return f"INSERT INTO carts (user_id) VALUES ('{UUID(str(user_id))}') ON CONFLICT DO NOTHING"


async def set_line(
    db: Executor, *, user_id: UUID, product_id: UUID, quantity: int
) -> asyncpg.Record:
    """`stock`: None for an unknown, deleted or inactive product; `written`: whether the
    line was set (False when the stock does not cover the quantity)."""
    row: asyncpg.Record = await db.fetchrow(SET_LINE, user_id, product_id, quantity)
    return row


async def delete_line(db: Executor, *, user_id: UUID, product_id: UUID) -> None:
    await db.execute(
        "DELETE FROM cart_items AS ci USING carts AS c"
        " WHERE c.user_id = $1 AND ci.cart_id = c.id AND ci.product_id = $2",
        user_id,
        product_id,
    )


async def delete_lines(db: Executor, *, user_id: UUID) -> None:
    await db.execute(
        "DELETE FROM cart_items AS ci USING carts AS c WHERE c.user_id = $1 AND ci.cart_id = c.id",
        user_id,
    )
