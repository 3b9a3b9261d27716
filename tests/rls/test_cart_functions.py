"""The cart's functions (migration 0007) run as the customer they are given, and only as them.

Each test runs them as the app's role with no context of its own (see conftest), as the app
calls them: the function sets the context, the policies hold every statement inside to that
customer, and the setting ends with the transaction.
"""

import json
from uuid import UUID

import asyncpg
import pytest

from comptoir.db.door import customer
from comptoir.db.server import app_database_url
from comptoir.settings import Settings
from tests.factories import make_user
from tests.rls.conftest import Shop, act_as, listed


async def lines_of(conn: asyncpg.Connection, user: UUID) -> dict[str, int]:
    """A customer's lines as the owner sees them (every row): product id -> quantity."""
    await conn.execute("RESET ROLE")
    rows = await conn.fetch(
        "SELECT ci.product_id::text, ci.quantity FROM cart_items AS ci"
        " JOIN carts AS c ON c.id = ci.cart_id WHERE c.user_id = $1",
        user,
    )
    return {r["product_id"]: r["quantity"] for r in rows}


@pytest.fixture
async def stool(conn: asyncpg.Connection) -> UUID:
    product: UUID = await conn.fetchval(
        "INSERT INTO products (name, price, stock) VALUES ('Tabouret', 25.00, 4) RETURNING id"
    )
    return product


async def test_the_cart_shows_the_given_customers_lines_only(
    conn: asyncpg.Connection, shop: Shop
) -> None:
    await act_as(conn, None)
    cart = json.loads(await conn.fetchval("SELECT cart_json($1, 'EUR')", shop.alice))
    assert [item["quantity"] for item in cart["items"]] == [2]
    assert cart["total"] == "20.00"
    # What it said holds to the end of the transaction (here the test's): Alice's rows only.
    assert await listed(conn, shop.listing["cart_items"]) == shop.of("cart_items", shop.alice)


async def test_setting_a_line_writes_the_given_customers_cart_only(
    conn: asyncpg.Connection, shop: Shop, stool: UUID
) -> None:
    bobs = await lines_of(conn, shop.bob)
    await act_as(conn, None)
    row = await conn.fetchrow("SELECT * FROM cart_set_line($1, $2, 3, 'EUR')", shop.alice, stool)
    assert row is not None
    assert (row["stock_left"], row["written"]) == (4, True)
    assert sorted(i["name"] for i in json.loads(row["cart"])["items"]) == ["Lampe", "Tabouret"]
    assert (await lines_of(conn, shop.alice))[str(stool)] == 3
    assert await lines_of(conn, shop.bob) == bobs


async def test_the_first_line_creates_the_cart_under_the_policies(
    conn: asyncpg.Connection, stool: UUID
) -> None:
    """The trap of one statement: its line's check could not see the cart it created."""
    carol = await make_user(conn, email="carol@example.com")
    await act_as(conn, None)
    row = await conn.fetchrow("SELECT * FROM cart_set_line($1, $2, 1, 'EUR')", carol, stool)
    assert row is not None
    assert row["written"]
    assert await lines_of(conn, carol) == {str(stool): 1}


@pytest.mark.parametrize(("quantity", "stock_left"), [(5, 4), (1, None)])
async def test_a_refused_line_writes_nothing_not_even_the_cart(
    conn: asyncpg.Connection, stool: UUID, quantity: int, stock_left: int | None
) -> None:
    carol = await make_user(conn, email="carol@example.com")
    if stock_left is None:  # a product no longer sold
        await conn.execute("UPDATE products SET active = false WHERE id = $1", stool)
    await act_as(conn, None)
    row = await conn.fetchrow(
        "SELECT * FROM cart_set_line($1, $2, $3, 'EUR')", carol, stool, quantity
    )
    assert row is not None
    assert dict(row) == {"stock_left": stock_left, "written": False, "cart": None}
    await conn.execute("RESET ROLE")
    assert await conn.fetchval("SELECT count(*) FROM carts WHERE user_id = $1", carol) == 0


@pytest.mark.parametrize("one_product", [True, False])
async def test_deleting_lines_touches_the_given_customers_cart_only(
    conn: asyncpg.Connection, shop: Shop, one_product: bool
) -> None:
    bobs = await lines_of(conn, shop.bob)
    [product] = await lines_of(conn, shop.alice)
    await act_as(conn, None)
    await conn.execute(
        "SELECT cart_delete_lines($1, $2)", shop.alice, product if one_product else None
    )
    assert await lines_of(conn, shop.alice) == {}
    assert await lines_of(conn, shop.bob) == bobs


async def test_no_customer_gets_an_empty_cart_and_writes_nothing(
    conn: asyncpg.Connection, shop: Shop, stool: UUID
) -> None:
    """A NULL customer (nobody) sets no context: the policies deny, as for anonymous."""
    await act_as(conn, customer(shop.alice, "customer"))  # even after someone was said
    cart = json.loads(await conn.fetchval("SELECT cart_json(NULL, 'EUR')"))
    assert cart == {"items": [], "total": "0.00", "currency": "EUR"}
    assert await listed(conn, shop.listing["carts"]) == set()
    await conn.execute("SELECT cart_delete_lines(NULL, NULL)")
    # A cart for nobody: refused (by the policy's check, or carts.user_id's NOT NULL).
    with pytest.raises(asyncpg.PostgresError):
        async with conn.transaction():
            await conn.fetchrow("SELECT * FROM cart_set_line(NULL, $1, 1, 'EUR')", stool)
    assert await lines_of(conn, shop.alice) != {}


async def test_the_context_a_function_sets_ends_with_its_statement(database_url: str) -> None:
    """On the app's own login, autocommit, as the app calls them: one statement, one
    transaction; the next statement is nobody again."""
    url = app_database_url(Settings(database_url=database_url, rls="on"), database_url)
    app = await asyncpg.connect(url)
    try:
        someone = await app.fetchval("SELECT gen_random_uuid()")
        cart = json.loads(await app.fetchval("SELECT cart_json($1, 'EUR')", someone))
        assert cart["items"] == []
        assert await app.fetchval("SELECT request_user_id()") is None
        assert not app.is_in_transaction()
    finally:
        await app.close()
