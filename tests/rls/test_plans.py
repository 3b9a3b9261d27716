"""With RLS on, the customer queries still use the seed's indexes.

The policies compare each row's own column with an init plan (`(SELECT request_user_id())`),
so a query's `user_id = $1` stays an index condition and the policy costs one comparison per
row found; the back office's role has no customer filter at all. Plans are read as the app's
role (see conftest), on enough rows that a sequential scan is a real option.

The cart's SQL lives in functions (migration 0007) that set the customer's context
themselves: its plans are the ones those functions run, read with `auto_explain` logging
nested statements to this client.
"""

import asyncio

import asyncpg
import pytest

from comptoir.carts.queries import CART_JSON
from comptoir.db.door import customer
from comptoir.orders.queries import ORDER_JSON
from comptoir.pagination import Arguments, newest_first
from tests.rls.conftest import APP_ROLE, act_as

FILL = """
INSERT INTO users (email, password_hash)
SELECT 'plan' || i || '@example.com', 'x' FROM generate_series(1, 3000) AS i;
INSERT INTO products (name, price, stock)
SELECT 'Produit ' || i, 10.00, 100 FROM generate_series(1, 2000) AS i;
INSERT INTO carts (user_id) SELECT id FROM users;
INSERT INTO cart_items (cart_id, product_id, quantity)
SELECT c.id, p.id, 1
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM carts) AS c
CROSS JOIN generate_series(0, 2) AS k
JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM products) AS p
  ON p.n = 1 + (c.n * 7 + k * 13) % 2000;
INSERT INTO orders (user_id, status, total_amount, created_at)
SELECT u.id,
       CASE WHEN g = 1 AND u.n % 50 = 0 THEN 'cancelled'::order_status
            ELSE (ARRAY['pending', 'paid', 'shipped']::order_status[])[1 + g % 3] END,
       10.00, now() - make_interval(hours => (g * 31 + u.n)::int)
FROM (SELECT id, row_number() OVER () AS n FROM users) AS u
CROSS JOIN generate_series(1, 6) AS g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT o.id, p.id, 1, 10.00
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM orders) AS o
JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM products) AS p
  ON p.n = 1 + o.n % 2000;
ANALYZE users, products, carts, cart_items, orders, order_items;
"""


@pytest.fixture
async def filled(conn: asyncpg.Connection) -> asyncpg.Record:
    await conn.execute(FILL)
    user = await conn.fetchrow("SELECT id FROM users WHERE email = 'plan42@example.com'")
    assert user is not None
    return user


async def plan(conn: asyncpg.Connection, query: str, *args: object) -> str:
    rows = await conn.fetch(f"EXPLAIN (COSTS OFF) {query}", *args)
    return "\n".join(r[0] for r in rows)


async def plans_inside(conn: asyncpg.Connection, query: str, *args: object) -> list[str]:
    """Run `query` as the app's role, with no context of its own, and return the plans of
    the statements it ran, functions' statements included (auto_explain, as NOTICEs)."""
    try:
        await conn.execute("LOAD 'auto_explain'")  # superuser: before the role changes
    except asyncpg.UndefinedFileError:
        pytest.skip("auto_explain is not installed on this server")
    await conn.execute(
        "SET LOCAL auto_explain.log_min_duration = 0;"
        " SET LOCAL auto_explain.log_nested_statements = on;"
        " SET LOCAL auto_explain.log_level = notice;"
        f" SET LOCAL ROLE {APP_ROLE}"
    )
    logged: list[str] = []

    def listen(_: object, message: asyncpg.PostgresLogMessage) -> None:
        logged.append(message.message)

    conn.add_log_listener(listen)
    try:
        await conn.fetch(query, *args)
        await asyncio.sleep(0)  # asyncpg hands notices to listeners on the next loop turn
    finally:
        conn.remove_log_listener(listen)
    return logged


async def test_the_cart_reads_the_users_cart_and_its_lines_by_index(
    conn: asyncpg.Connection, filled: asyncpg.Record
) -> None:
    logged = await plans_inside(conn, CART_JSON, filled["id"], "EUR")
    # The function's own statement, run under the context it set (the policies apply).
    [shown] = [plan for plan in logged if "FROM carts AS c" in plan]
    assert "carts_user_id_key" in shown, shown
    assert "cart_items_cart_id_idx" in shown, shown
    assert "Seq Scan on cart" not in shown, shown


def first_page(column: str, value: object, cast: str) -> tuple[str, list[object]]:
    """The first page of orders with `column` = `value`, as orders/queries.py asks it."""
    args = Arguments("EUR")
    where = [f"{column} = {args.add(value, cast)}"]
    sql = newest_first(
        args, source="orders AS o", alias="o", where=where, item=ORDER_JSON, after=None, limit=20
    )
    return sql, args.values


async def test_the_order_history_reads_the_users_orders_by_index(
    conn: asyncpg.Connection, filled: asyncpg.Record
) -> None:
    await act_as(conn, customer(filled["id"], "customer"))
    sql, args = first_page("o.user_id", filled["id"], "uuid")
    shown = await plan(conn, sql, *args)
    assert "orders_user_id_created_at_idx" in shown
    assert "Seq Scan on orders" not in shown


async def test_an_orders_lines_are_read_by_index(
    conn: asyncpg.Connection, filled: asyncpg.Record
) -> None:
    order = await conn.fetchval("SELECT id FROM orders WHERE user_id = $1 LIMIT 1", filled["id"])
    await act_as(conn, customer(filled["id"], "customer"))
    shown = await plan(
        conn,
        "SELECT oi.product_id, oi.quantity FROM orders AS o"
        " JOIN order_items AS oi ON oi.order_id = o.id WHERE o.id = $1",
        order,
    )
    assert "orders_pkey" in shown
    assert "order_items_order_id_product_id_key" in shown
    assert "Seq Scan" not in shown


async def test_the_back_office_filters_orders_by_status_with_its_index(
    conn: asyncpg.Connection, filled: asyncpg.Record
) -> None:
    # The status comparison is not leakproof: under a customer-style policy it could not be
    # an index condition. The staff role has no customer filter, so it is one. (Sequential
    # scans off: on a table this small the planner may prefer one; the point is whether the
    # index can serve the filter at all.)
    await act_as(conn, customer(filled["id"], "admin"))
    await conn.execute("SET LOCAL enable_seqscan = off")
    sql, args = first_page("o.status", "cancelled", "order_status")
    shown = await plan(conn, sql, *args)
    assert "orders_status_created_at_idx" in shown, shown
    assert "Index Cond: (status = 'cancelled'::order_status)" in shown, shown
    assert "Seq Scan on orders" not in shown


async def test_a_query_that_forgets_the_user_still_reads_one_cart_by_index(
    conn: asyncpg.Connection, filled: asyncpg.Record
) -> None:
    """The policy alone is an index condition: a forgotten filter costs no full scan."""
    await act_as(conn, customer(filled["id"], "customer"))
    shown = await plan(conn, "SELECT product_id, quantity FROM cart_items")
    assert "cart_items_cart_id_idx" in shown
    assert "carts_user_id_key" in shown
    assert "Seq Scan" not in shown
