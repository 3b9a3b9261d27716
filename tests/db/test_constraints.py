"""The database itself refuses what the code must never do: each constraint, tried and refused."""

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import asyncpg
import pytest

from tests.factories import make_cart, make_order, make_product, make_user

# PostgreSQL 18 reports ON DELETE RESTRICT as restrict_violation; older servers as
# foreign_key_violation.
RESTRICTED = (asyncpg.RestrictViolationError, asyncpg.ForeignKeyViolationError)


async def refused(conn: asyncpg.Connection, sql: str, *args: object) -> asyncpg.PostgresError:
    """Run `sql` in a savepoint and return the error the database raised."""
    with pytest.raises(asyncpg.IntegrityConstraintViolationError) as raised:
        async with conn.transaction():
            await conn.execute(sql, *args)
    return raised.value


async def test_second_account_whose_email_differs_only_in_case(conn: asyncpg.Connection) -> None:
    await make_user(conn, email="Alice@Example.com")
    error = await refused(
        conn, "INSERT INTO users (email, password_hash) VALUES ($1, 'x')", "alice@EXAMPLE.COM"
    )
    assert isinstance(error, asyncpg.UniqueViolationError)
    assert error.constraint_name == "users_email_key"


async def test_login_lookup_finds_the_account_whatever_the_case(conn: asyncpg.Connection) -> None:
    user = await make_user(conn, email="Bob@Example.com")
    found = await conn.fetchval("SELECT id FROM users WHERE email = $1", "bob@example.COM")
    assert found == user


@pytest.mark.parametrize("email", ["no-at-sign", " padded@example.com", "two@@example.com", ""])
async def test_malformed_email_is_refused(conn: asyncpg.Connection, email: str) -> None:
    error = await refused(conn, "INSERT INTO users (email) VALUES ($1)", email)
    assert error.constraint_name == "users_email_check"


async def test_second_cart_for_a_user(conn: asyncpg.Connection) -> None:
    user = await make_user(conn)
    await make_cart(conn, user)
    error = await refused(conn, "INSERT INTO carts (user_id) VALUES ($1)", user)
    assert isinstance(error, asyncpg.UniqueViolationError)
    assert error.constraint_name == "carts_user_id_key"


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("stock", -1, "products_stock_check"),
        ("price", Decimal("-0.01"), "products_price_check"),
        ("name", "   ", "products_name_check"),
    ],
)
async def test_product_values_out_of_range(
    conn: asyncpg.Connection, column: str, value: object, constraint: str
) -> None:
    product = await make_product(conn)
    error = await refused(conn, f"UPDATE products SET {column} = $2 WHERE id = $1", product, value)
    assert isinstance(error, asyncpg.CheckViolationError)
    assert error.constraint_name == constraint


async def test_stock_decrement_below_zero_is_refused(conn: asyncpg.Connection) -> None:
    """The last line of defence against overselling, whatever the code does."""
    product = await make_product(conn, stock=2)
    error = await refused(conn, "UPDATE products SET stock = stock - 3 WHERE id = $1", product)
    assert error.constraint_name == "products_stock_check"
    assert await conn.fetchval("SELECT stock FROM products WHERE id = $1", product) == 2


async def test_cart_line_for_a_missing_product(conn: asyncpg.Connection) -> None:
    cart = await make_cart(conn, await make_user(conn))
    error = await refused(
        conn,
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, 1)",
        cart,
        UUID(int=0),
    )
    assert isinstance(error, asyncpg.ForeignKeyViolationError)
    assert error.constraint_name == "cart_items_product_id_fkey"


@pytest.mark.parametrize("quantity", [0, -2])
async def test_cart_line_quantity_must_be_positive(conn: asyncpg.Connection, quantity: int) -> None:
    cart = await make_cart(conn, await make_user(conn))
    product = await make_product(conn)
    error = await refused(
        conn,
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)",
        cart,
        product,
        quantity,
    )
    assert error.constraint_name == "cart_items_quantity_check"


async def test_same_product_twice_in_a_cart(conn: asyncpg.Connection) -> None:
    product = await make_product(conn)
    cart = await make_cart(conn, await make_user(conn), lines={product: 1})
    error = await refused(
        conn,
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, 1)",
        cart,
        product,
    )
    assert error.constraint_name == "cart_items_cart_id_product_id_key"


async def test_deleting_a_product_that_an_order_holds(conn: asyncpg.Connection) -> None:
    product = await make_product(conn)
    await make_order(conn, await make_user(conn), lines={product: (1, Decimal("9.90"))})
    error = await refused(conn, "DELETE FROM products WHERE id = $1", product)
    assert isinstance(error, RESTRICTED)
    assert error.constraint_name == "order_items_product_id_fkey"


async def test_deleting_a_product_in_a_cart(conn: asyncpg.Connection) -> None:
    product = await make_product(conn)
    await make_cart(conn, await make_user(conn), lines={product: 2})
    error = await refused(conn, "DELETE FROM products WHERE id = $1", product)
    assert error.constraint_name == "cart_items_product_id_fkey"


async def test_deleting_a_user_with_orders(conn: asyncpg.Connection) -> None:
    user = await make_user(conn)
    await make_order(conn, user, lines={await make_product(conn): (1, Decimal("5.00"))})
    error = await refused(conn, "DELETE FROM users WHERE id = $1", user)
    assert isinstance(error, RESTRICTED)
    assert error.constraint_name == "orders_user_id_fkey"
    assert await conn.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", user) == 1


async def test_deleting_a_user_without_orders_takes_the_cart_and_keeps_events(
    conn: asyncpg.Connection,
) -> None:
    user = await make_user(conn)
    cart = await make_cart(conn, user, lines={await make_product(conn): 1})
    await conn.execute(
        "INSERT INTO analytics_events (event_type, user_id, payload, created_at)"
        " VALUES ('page_view', $1, '{}', now()), ('page_view', $1, '{}', '2001-01-01')",
        user,
    )
    await conn.execute("DELETE FROM users WHERE id = $1", user)
    assert await conn.fetchval("SELECT count(*) FROM carts WHERE id = $1", cart) == 0
    assert await conn.fetchval("SELECT count(*) FROM cart_items WHERE cart_id = $1", cart) == 0
    events = await conn.fetch("SELECT user_id FROM analytics_events")
    assert [e["user_id"] for e in events] == [None, None]


async def test_deleting_an_order_takes_its_lines(conn: asyncpg.Connection) -> None:
    order = await make_order(
        conn, await make_user(conn), lines={await make_product(conn): (2, Decimal("1.50"))}
    )
    await conn.execute("DELETE FROM orders WHERE id = $1", order)
    assert await conn.fetchval("SELECT count(*) FROM order_items WHERE order_id = $1", order) == 0


async def test_order_values_out_of_range(conn: asyncpg.Connection) -> None:
    user = await make_user(conn)
    product = await make_product(conn)
    error = await refused(conn, "INSERT INTO orders (user_id, total_amount) VALUES ($1, -1)", user)
    assert error.constraint_name == "orders_total_amount_check"
    order = await make_order(conn, user, lines={})
    for quantity, price, constraint in [
        (0, Decimal("1.00"), "order_items_quantity_check"),
        (1, Decimal("-1.00"), "order_items_unit_price_check"),
    ]:
        error = await refused(
            conn,
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
            " VALUES ($1, $2, $3, $4)",
            order,
            product,
            quantity,
            price,
        )
        assert error.constraint_name == constraint


async def test_same_product_twice_in_an_order(conn: asyncpg.Connection) -> None:
    product = await make_product(conn)
    order = await make_order(conn, await make_user(conn), lines={product: (1, Decimal("2.00"))})
    error = await refused(
        conn,
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
        " VALUES ($1, $2, 1, 2.00)",
        order,
        product,
    )
    assert error.constraint_name == "order_items_order_id_product_id_key"


async def test_payment_intent_marks_one_order_only(conn: asyncpg.Connection) -> None:
    user = await make_user(conn)
    await make_order(conn, user, lines={}, payment_intent_id="pi_123")
    error = await refused(
        conn,
        "INSERT INTO orders (user_id, total_amount, payment_intent_id) VALUES ($1, 0, 'pi_123')",
        user,
    )
    assert error.constraint_name == "orders_payment_intent_id_key"


async def test_unknown_order_status_and_role_are_refused(conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.InvalidTextRepresentationError):
        async with conn.transaction():
            await conn.execute("INSERT INTO users (email, role) VALUES ('x@y.z', 'superuser')")
    with pytest.raises(asyncpg.InvalidTextRepresentationError):
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO orders (user_id, total_amount, status) VALUES ($1, 0, 'lost')",
                await make_user(conn),
            )


async def test_event_payload_must_be_an_object(conn: asyncpg.Connection) -> None:
    error = await refused(
        conn, "INSERT INTO analytics_events (event_type, payload) VALUES ('x', '[1, 2]')"
    )
    assert error.constraint_name == "analytics_events_payload_check"


async def test_events_land_in_their_month_or_the_default_partition(
    conn: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    await conn.execute(
        "INSERT INTO analytics_events (event_type, created_at)"
        " VALUES ('now', $1), ('long_ago', '1999-12-31T23:00:00Z')",
        now,
    )
    rows = await conn.fetch(
        "SELECT event_type, tableoid::regclass::text AS partition FROM analytics_events"
    )
    where = {r["event_type"]: r["partition"] for r in rows}
    assert where == {
        "now": f"analytics_events_y{now:%Y}m{now:%m}",
        "long_ago": "analytics_events_default",
    }


async def test_updated_at_moves_on_update(conn: asyncpg.Connection) -> None:
    product = await make_product(conn)
    before = await conn.fetchval("SELECT updated_at FROM products WHERE id = $1", product)
    # now() is the transaction's start: step out of it to see the trigger's work.
    await conn.execute("UPDATE products SET updated_at = '2000-01-01' WHERE id = $1", product)
    after = await conn.fetchval("SELECT updated_at FROM products WHERE id = $1", product)
    assert after == before
    assert after.year != 2000


async def test_order_total_must_be_the_sum_of_its_lines(conn: asyncpg.Connection) -> None:
    product = await make_product(conn)
    user = await make_user(conn)
    # Checked at commit (a deferred constraint trigger); made immediate here to see it.
    with pytest.raises(asyncpg.CheckViolationError) as raised:
        async with conn.transaction():
            order = await conn.fetchval(
                "INSERT INTO orders (user_id, total_amount) VALUES ($1, 10.00) RETURNING id", user
            )
            await conn.execute(
                "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
                " VALUES ($1, $2, 1, 9.99)",
                order,
                product,
            )
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert raised.value.constraint_name == "orders_total_is_sum_of_lines"
