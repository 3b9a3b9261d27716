"""SQL of the cart: one per user, lines keyed by product."""

from uuid import UUID

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


async def fetch_orderable_stock(db: Executor, *, product_id: UUID) -> int | None:
    """The stock of a product that can be put in a cart; None if deleted, inactive or unknown."""
    stock: int | None = await db.fetchval(
        "SELECT stock FROM products WHERE id = $1 AND active AND deleted_at IS NULL",
        product_id,
    )
    return stock


async def upsert_cart(db: Executor, *, user_id: UUID) -> UUID:
    """The user's cart, created on first use; safe when two first requests race."""
    cart: UUID = await db.fetchval(
        "INSERT INTO carts (user_id) VALUES ($1)"
        " ON CONFLICT (user_id) DO UPDATE SET updated_at = now() RETURNING id",
        user_id,
    )
    return cart


async def upsert_line(db: Executor, *, cart_id: UUID, product_id: UUID, quantity: int) -> None:
    await db.execute(
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)"
        " ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity",
        cart_id,
        product_id,
        quantity,
    )


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
