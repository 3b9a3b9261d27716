"""Fixtures of the row-level security tests: two customers' rows in every protected table,
and a way to run SQL as the app's role with a given context.

Everything happens inside the `conn` fixture's transaction (rolled back after the test):
`SET LOCAL ROLE comptoir_app` makes the rest of the transaction run as the app's login role,
subject to the policies, exactly as the app's own connections are.
"""

from dataclasses import dataclass
from uuid import UUID

import asyncpg
import pytest

from comptoir.db.door import Caller
from tests.factories import make_user

APP_ROLE = "comptoir_app"


async def act_as(conn: asyncpg.Connection, context: Caller | None) -> None:
    """From here to the end of the transaction, run as the app with `context` (None: the
    app's role with nothing said, as an anonymous request)."""
    await conn.execute(f"SET LOCAL ROLE {APP_ROLE}")
    await conn.execute("SELECT set_config('comptoir.user_id', '', true)")
    if context is not None:
        for statement in context.statements():
            await conn.execute(statement)


@dataclass(frozen=True)
class Shop:
    alice: UUID
    bob: UUID
    # Per protected table: the query that lists its rows with no user filter, and the rows
    # that belong to each customer (as that query names them).
    listing: dict[str, str]
    rows: dict[str, dict[UUID, set[str]]]

    def of(self, table: str, *users: UUID) -> set[str]:
        return set().union(*(self.rows[table][u] for u in users))

    def anonymous(self, table: str) -> set[str]:
        return self.rows[table].get(ANONYMOUS_KEY, set())


ANONYMOUS_KEY = UUID(int=0)

LISTING = {
    "carts": "SELECT id::text FROM carts",
    "cart_items": "SELECT id::text FROM cart_items",
    "orders": "SELECT id::text FROM orders",
    "order_items": "SELECT id::text FROM order_items",
    "idempotency_keys": "SELECT key FROM idempotency_keys",
    "payment_events": "SELECT event_id FROM payment_events",
    "analytics_events": "SELECT id::text FROM analytics_events",
    "addresses": "SELECT id::text FROM addresses",
}


async def _customer_rows(
    conn: asyncpg.Connection, user: UUID, product: UUID, tag: str
) -> dict[str, set[str]]:
    cart = await conn.fetchval("INSERT INTO carts (user_id) VALUES ($1) RETURNING id", user)
    line = await conn.fetchval(
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, 2) RETURNING id",
        cart,
        product,
    )
    order = await conn.fetchval(
        "INSERT INTO orders (user_id, total_amount) VALUES ($1, 10.00) RETURNING id", user
    )
    item = await conn.fetchval(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
        " VALUES ($1, $2, 1, 10.00) RETURNING id",
        order,
        product,
    )
    await conn.execute(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, order_id)"
        " VALUES ($1, $2, 'f', $3)",
        user,
        f"key-{tag}",
        order,
    )
    await conn.execute(
        "INSERT INTO payment_events (event_id, payment_intent_id, order_id, outcome, result,"
        " payload, type) VALUES ($1, $2, $3, 'succeeded', 'paid', '{}', 'payment.succeeded')",
        f"evt-{tag}",
        f"pi-{tag}",
        order,
    )
    event = await conn.fetchval(
        "INSERT INTO analytics_events (event_type, user_id) VALUES ('view', $1) RETURNING id",
        user,
    )
    address = await conn.fetchval(
        "INSERT INTO addresses (user_id, name, line1, postal_code, city, country)"
        " VALUES ($1, $2, '1 rue de la Paix', '75002', 'Paris', 'FR') RETURNING id::text",
        user,
        tag,
    )
    return {
        "addresses": {address},
        "carts": {str(cart)},
        "cart_items": {str(line)},
        "orders": {str(order)},
        "order_items": {str(item)},
        "idempotency_keys": {f"key-{tag}"},
        "payment_events": {f"evt-{tag}"},
        "analytics_events": {str(event)},
    }


@pytest.fixture
async def shop(conn: asyncpg.Connection) -> Shop:
    alice = await make_user(conn, email="alice@example.com")
    bob = await make_user(conn, email="bob@example.com")
    product = await conn.fetchval(
        "INSERT INTO products (name, price, stock) VALUES ('Lampe', 10.00, 50) RETURNING id"
    )
    rows: dict[str, dict[UUID, set[str]]] = {table: {} for table in LISTING}
    for user, tag in ((alice, "alice"), (bob, "bob")):
        for table, ids in (await _customer_rows(conn, user, product, tag)).items():
            rows[table][user] = ids
    anonymous = await conn.fetchval(
        "INSERT INTO analytics_events (event_type) VALUES ('view') RETURNING id::text"
    )
    rows["analytics_events"][ANONYMOUS_KEY] = {anonymous}
    return Shop(alice, bob, LISTING, rows)


async def listed(conn: asyncpg.Connection, query: str) -> set[str]:
    return {r[0] for r in await conn.fetch(query)}
