"""The database keeps each customer to their own rows, whatever the query forgets.

Every query here deliberately omits the user filter, runs as the app's role (see conftest),
and must still see or change only the caller's rows: a customer's own, every order, payment
and event for the back office, none without a context.
"""

import asyncpg
import pytest

from comptoir.db.door import PUBLIC as ANONYMOUS
from comptoir.db.door import SYSTEM, Caller, customer
from tests.rls.conftest import LISTING, Shop, act_as, listed

TABLES = sorted(LISTING)
STAFF_SEES_ALL = ["orders", "order_items", "payment_events", "analytics_events"]


@pytest.mark.parametrize("table", TABLES)
async def test_a_customer_sees_only_their_own_rows(
    conn: asyncpg.Connection, shop: Shop, table: str
) -> None:
    await act_as(conn, customer(shop.alice, "customer"))
    # Payment events too (read only): the order document shows a customer when their
    # payment's events came.
    assert await listed(conn, shop.listing[table]) == shop.of(table, shop.alice)


@pytest.mark.parametrize("table", TABLES)
async def test_without_a_context_no_row_is_visible(
    conn: asyncpg.Connection, shop: Shop, table: str
) -> None:
    await act_as(conn, None)
    assert await listed(conn, shop.listing[table]) == set()
    # Saying nothing and saying "anonymous" are the same.
    await act_as(conn, ANONYMOUS)
    assert await listed(conn, shop.listing[table]) == set()


@pytest.mark.parametrize("table", STAFF_SEES_ALL)
async def test_the_back_office_sees_every_customers_orders_payments_and_events(
    conn: asyncpg.Connection, shop: Shop, table: str
) -> None:
    await act_as(conn, SYSTEM)
    everyone = shop.of(table, shop.alice, shop.bob) | shop.anonymous(table)
    assert await listed(conn, shop.listing[table]) == everyone


@pytest.mark.parametrize("table", ["carts", "cart_items", "idempotency_keys"])
async def test_an_admin_sees_their_own_cart_and_keys_only(
    conn: asyncpg.Connection, shop: Shop, table: str
) -> None:
    await act_as(conn, customer(shop.bob, "admin"))
    assert await listed(conn, shop.listing[table]) == shop.of(table, shop.bob)


# A no-op change per table: what counts is how many rows the statement reached.
TOUCH = {
    "carts": "updated_at = updated_at",
    "cart_items": "quantity = quantity",
    "orders": "updated_at = updated_at",
    "order_items": "quantity = quantity",
    "idempotency_keys": "expires_at = expires_at",
    "analytics_events": "payload = payload",
}


@pytest.mark.parametrize("table", sorted(TOUCH))
async def test_an_update_without_a_user_filter_changes_only_the_callers_rows(
    conn: asyncpg.Connection, shop: Shop, table: str
) -> None:
    await act_as(conn, customer(shop.alice, "customer"))
    status = await conn.execute(f"UPDATE {table} SET {TOUCH[table]}")
    assert status == f"UPDATE {len(shop.of(table, shop.alice))}"


@pytest.mark.parametrize("table", ["cart_items", "idempotency_keys", "analytics_events"])
async def test_a_delete_without_a_user_filter_removes_only_the_callers_rows(
    conn: asyncpg.Connection, shop: Shop, table: str
) -> None:
    await act_as(conn, customer(shop.alice, "customer"))
    await conn.execute(f"DELETE FROM {table}")
    await conn.execute("RESET ROLE")  # the owner again: every row
    remaining = await listed(conn, shop.listing[table])
    assert remaining == shop.of(table, shop.bob) | shop.anonymous(table)


async def test_a_customer_cannot_write_rows_for_someone_else(
    conn: asyncpg.Connection, shop: Shop
) -> None:
    await act_as(conn, customer(shop.alice, "customer"))
    bobs_cart = next(iter(shop.rows["carts"][shop.bob]))
    attempts = [
        ("INSERT INTO orders (user_id, total_amount) VALUES ($1, 0)", shop.bob),
        (
            "INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES ($1, 'k', 'f')",
            shop.bob,
        ),
        ("INSERT INTO analytics_events (event_type, user_id) VALUES ('x', $1)", shop.bob),
        ("INSERT INTO carts (user_id) VALUES ($1)", shop.bob),
        (
            "INSERT INTO cart_items (cart_id, product_id, quantity)"
            " SELECT $1::uuid, id, 1 FROM products LIMIT 1",
            bobs_cart,
        ),
        # Moving one's own row to another customer is writing theirs.
        ("UPDATE orders SET user_id = $1", shop.bob),
    ]
    for sql, argument in attempts:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with conn.transaction():
                await conn.execute(sql, argument)


async def test_a_customer_cannot_record_a_payment(conn: asyncpg.Connection, shop: Shop) -> None:
    await act_as(conn, customer(shop.alice, "customer"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await conn.execute(
            "INSERT INTO payment_events"
            " (event_id, payment_intent_id, outcome, result, payload, type)"
            " VALUES ('e', 'pi', 'succeeded', 'unknown_order', '{}', 'payment.succeeded')"
        )


async def test_anyone_may_record_an_anonymous_event_but_not_read_it(
    conn: asyncpg.Connection, shop: Shop
) -> None:
    await act_as(conn, None)
    # RETURNING 1 reads no column of the new row (events/queries.py counts stored rows so)...
    await conn.execute("INSERT INTO analytics_events (event_type) VALUES ('visit') RETURNING 1")
    assert await listed(conn, shop.listing["analytics_events"]) == set()
    # ...whereas returning a column would show a row nobody may read.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await conn.execute("INSERT INTO analytics_events (event_type) VALUES ('v') RETURNING id")


async def test_checkout_runs_under_the_policies(conn: asyncpg.Connection, shop: Shop) -> None:
    """place_order() writes an order, its lines and its key as the customer: every write
    passes the policies' checks, and the order is the customer's."""
    await act_as(conn, customer(shop.alice, "customer"))
    placed = await conn.fetchval("SELECT place_order($1, 'rls-key', 'f', 'EUR', NULL)", shop.alice)
    assert '"order"' in placed
    assert len(await listed(conn, shop.listing["orders"])) == 2


async def test_checkout_in_one_statement_says_whom_it_serves(
    conn: asyncpg.Connection, shop: Shop
) -> None:
    """The app's checkout with RLS on: place_order_as_buyer() sets the buyer's context
    itself, so that no BEGIN or COMMIT round trip surrounds the locks it takes."""
    await act_as(conn, None)
    placed = await conn.fetchval(
        "SELECT place_order_as_buyer($1, 'rls-key', 'f', 'EUR', NULL)", shop.bob
    )
    assert '"order"' in placed
    # What the statement said holds to the end of its transaction (here the test's).
    orders = await listed(conn, shop.listing["orders"])
    assert len(orders) == 2
    assert shop.of("orders", shop.bob) < orders


async def test_the_context_ends_with_the_transaction(database_url: str) -> None:
    """On the app's own login: what one transaction said is gone for the next one."""
    from comptoir.db.server import app_database_url
    from comptoir.settings import Settings

    url = app_database_url(Settings(database_url=database_url, rls="on"), database_url)
    app = await asyncpg.connect(url)
    try:
        assert await app.fetchval("SELECT current_user") == "comptoir_app"
        staff = Caller(user_id=None, staff=True)
        alice = customer(staff_id := await app.fetchval("SELECT gen_random_uuid()"), "admin")
        async with app.transaction():
            for statement in [*staff.statements(), *alice.statements()]:
                await app.execute(statement)
            assert await app.fetchval("SELECT current_user") == "comptoir_staff"
            assert await app.fetchval("SELECT request_user_id()") == staff_id
        assert await app.fetchval("SELECT current_user") == "comptoir_app"
        assert await app.fetchval("SELECT request_user_id()") is None
    finally:
        await app.close()


async def test_the_apps_role_is_neither_owner_superuser_nor_bypassrls(
    conn: asyncpg.Connection,
) -> None:
    role = await conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolinherit, rolcanlogin FROM pg_roles"
        " WHERE rolname = 'comptoir_app'"
    )
    assert role is not None
    assert dict(role) == {
        "rolsuper": False,
        "rolbypassrls": False,
        "rolinherit": False,  # the staff policies apply only after SET LOCAL ROLE
        "rolcanlogin": True,
    }
    owned = await conn.fetchval(
        "SELECT count(*) FROM pg_class WHERE relowner = 'comptoir_app'::regrole"
        " OR relowner = 'comptoir_staff'::regrole"
    )
    assert owned == 0
    staff = await conn.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'comptoir_staff'"
    )
    assert staff is not None
    assert not any(staff.values())
