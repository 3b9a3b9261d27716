"""What must hold after any sequence of checkouts, cancellations and moves."""

import asyncpg

INVARIANTS = """
SELECT
  -- for every product: initial stock = stock now + units in orders that are not cancelled
  (SELECT count(*) FROM products AS p
   LEFT JOIN (SELECT oi.product_id, sum(oi.quantity) AS units
              FROM order_items AS oi JOIN orders AS o ON o.id = oi.order_id
              WHERE o.status <> 'cancelled' GROUP BY oi.product_id) AS sold
     ON sold.product_id = p.id
   WHERE p.stock + coalesce(sold.units, 0) <> (p.description)::int) AS stock_mismatches,
  -- every order's total equals the sum of its lines, and no order lacks lines
  (SELECT count(*) FROM orders AS o
   WHERE o.total_amount <> (SELECT coalesce(sum(oi.unit_price * oi.quantity), -1)
                            FROM order_items AS oi WHERE oi.order_id = o.id)) AS bad_totals,
  (SELECT count(*) FROM products WHERE stock < 0) AS negative_stock
"""


async def check(conn: asyncpg.Connection) -> None:
    """Products made by `stocked()` keep their initial stock in `description`."""
    row = await conn.fetchrow(INVARIANTS)
    assert row is not None
    assert dict(row) == {"stock_mismatches": 0, "bad_totals": 0, "negative_stock": 0}


async def stocked(conn: asyncpg.Connection, name: str, stock: int, price: str = "10.00") -> str:
    product: str = await conn.fetchval(
        "INSERT INTO products (name, price, stock, description)"
        " VALUES ($1, $2::numeric, $3::int, $3::int::text)"
        " RETURNING id::text",
        name,
        price,
        stock,
    )
    return product
