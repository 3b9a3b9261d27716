"""Every branch of checkout's and the cart's SQL functions, through their query functions and
without HTTP: what each answer means to the code that reads it, and what it leaves behind.

On the test's own connection, rolled back afterwards (each call's writes are visible to the
next, as in one customer's session of requests).
"""

from decimal import Decimal
from uuid import UUID

import asyncpg

from comptoir.carts import queries as cart
from comptoir.checkout import queries as checkout
from tests.factories import make_cart, make_order, make_product, make_user


async def place(
    conn: asyncpg.Connection, buyer: UUID, key: str = "k1", fingerprint: str = "f", **more: int
) -> checkout.Outcome:
    return await checkout.place_order(
        conn,
        user_id=buyer,
        key=key,
        request_fingerprint=fingerprint,
        currency="EUR",
        max_pending=more.get("max_pending", 1000),
    )


async def stock(conn: asyncpg.Connection, product: UUID) -> int:
    left: int = await conn.fetchval("SELECT stock FROM products WHERE id = $1", product)
    return left


async def keys(conn: asyncpg.Connection, buyer: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE user_id = $1", buyer
    )
    return count


async def test_placed_then_replayed_then_reused(conn: asyncpg.Connection) -> None:
    buyer = await make_user(conn)
    mug = await make_product(conn, price=Decimal("8.00"), stock=5)
    await make_cart(conn, buyer, lines={mug: 2})

    placed = await place(conn, buyer)
    assert isinstance(placed, checkout.Placed)
    assert '"total": "16.00"' in placed.order
    assert await stock(conn, mug) == 3
    assert await conn.fetchval("SELECT count(*) FROM cart_items") == 0

    replayed = await place(conn, buyer)
    assert isinstance(replayed, checkout.Replayed)
    assert (replayed.status_code, replayed.body) == (201, placed.order)
    assert await conn.fetchval("SELECT count(*) FROM orders") == 1

    assert await place(conn, buyer, fingerprint="another body") == checkout.KeyReused()


async def test_an_empty_cart_or_none_is_refused_and_frees_the_key(conn: asyncpg.Connection) -> None:
    buyer = await make_user(conn)
    assert await place(conn, buyer) == checkout.EmptyCart()  # no cart at all
    await make_cart(conn, buyer)
    assert await place(conn, buyer) == checkout.EmptyCart()  # a cart with no line
    assert await keys(conn, buyer) == 0


async def test_short_inactive_and_deleted_lines_are_listed_and_nothing_written(
    conn: asyncpg.Connection,
) -> None:
    buyer = await make_user(conn)
    low = await make_product(conn, name="Low", stock=1)
    off = await make_product(conn, name="Off", stock=9, active=False)
    gone = await make_product(conn, name="Gone", stock=9)
    fine = await make_product(conn, name="Fine", stock=9)
    await conn.execute("UPDATE products SET deleted_at = now() WHERE id = $1", gone)
    await make_cart(conn, buyer, lines={low: 2, off: 1, gone: 1, fine: 1})

    refused = await place(conn, buyer)

    assert isinstance(refused, checkout.ShortOfStock)
    short = {item["name"]: (item["requested"], item["available"]) for item in refused.items}
    assert short == {"Low": (2, 1), "Off": (1, 0), "Gone": (1, 0)}
    assert [await stock(conn, p) for p in (low, off, gone, fine)] == [1, 9, 9, 9]
    assert await conn.fetchval("SELECT count(*) FROM cart_items") == 4
    assert await keys(conn, buyer) == 0


async def test_too_many_unpaid_orders_is_refused_and_paid_ones_do_not_count(
    conn: asyncpg.Connection,
) -> None:
    buyer = await make_user(conn)
    mug = await make_product(conn, price=Decimal("8.00"), stock=50)
    await make_order(conn, buyer, lines={mug: (1, Decimal("8.00"))})
    await make_order(conn, buyer, lines={mug: (1, Decimal("8.00"))}, status="paid")
    await make_cart(conn, buyer, lines={mug: 1})

    assert await place(conn, buyer, max_pending=1) == checkout.TooManyPending(limit=1)
    assert await keys(conn, buyer) == 0
    assert isinstance(await place(conn, buyer, max_pending=2), checkout.Placed)


async def test_a_total_past_what_an_order_holds_is_refused(conn: asyncpg.Connection) -> None:
    buyer = await make_user(conn)
    yacht = await make_product(conn, price=Decimal("9999999999.99"), stock=5)
    await make_cart(conn, buyer, lines={yacht: 2})
    assert await place(conn, buyer) == checkout.TooLarge(total="19999999999.98")
    assert await stock(conn, yacht) == 5
    assert await keys(conn, buyer) == 0


async def test_an_expired_key_is_free_again(conn: asyncpg.Connection) -> None:
    buyer = await make_user(conn)
    mug = await make_product(conn, stock=5)
    await make_cart(conn, buyer, lines={mug: 1})
    assert isinstance(await place(conn, buyer), checkout.Placed)
    await conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    await make_cart_line(conn, buyer, mug)
    assert isinstance(await place(conn, buyer, fingerprint="a new body"), checkout.Placed)
    assert await conn.fetchval("SELECT count(*) FROM orders") == 2


async def make_cart_line(conn: asyncpg.Connection, buyer: UUID, product: UUID) -> None:
    await conn.execute(
        "INSERT INTO cart_items (cart_id, product_id, quantity)"
        " SELECT id, $2, 1 FROM carts WHERE user_id = $1",
        buyer,
        product,
    )


async def test_the_cart_functions_set_refuse_show_and_delete(conn: asyncpg.Connection) -> None:
    buyer = await make_user(conn)
    tea = await make_product(conn, name="Tea", price=Decimal("4.50"), stock=3)
    pot = await make_product(conn, name="Pot", price=Decimal("30.00"), stock=1)

    assert '"items" : []' in await cart.fetch_cart_json(conn, user_id=buyer, currency="EUR")
    unknown = UUID(int=1)
    refused = await cart.set_line(
        conn, user_id=buyer, product_id=unknown, quantity=1, currency="EUR"
    )
    assert refused == cart.NoSuchProduct()
    short = await cart.set_line(conn, user_id=buyer, product_id=tea, quantity=4, currency="EUR")
    assert short == cart.ShortOfStock(available=3)
    assert await conn.fetchval("SELECT count(*) FROM carts") == 0  # a refusal writes nothing

    documents = []
    for product in (tea, pot):
        written = await cart.set_line(
            conn, user_id=buyer, product_id=product, quantity=1, currency="EUR"
        )
        assert isinstance(written, cart.LineSet)
        documents.append(written.cart)
    assert '"total" : "34.50"' in documents[-1]

    await cart.delete_line(conn, user_id=buyer, product_id=pot)
    shown = await cart.fetch_cart_json(conn, user_id=buyer, currency="EUR")
    assert '"name" : "Tea"' in shown and "Pot" not in shown
    await cart.delete_lines(conn, user_id=buyer)
    assert await conn.fetchval("SELECT count(*) FROM cart_items") == 0
