"""Property test: whatever customers and admins do, stock and totals stay right.

Hypothesis draws sequences of cart edits, checkouts, cancellations and admin moves; after
every step, for every product, initial stock = stock now + units in orders that are not
cancelled, and every order's total is the sum of its lines.
"""

import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.checkout.invariants import check, stocked
from tests.factories import Account, make_user, minted

CUSTOMERS = 3
PRODUCTS = 4

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("cart"),
            st.integers(0, CUSTOMERS - 1),
            st.integers(0, PRODUCTS - 1),
            st.integers(0, 6),
        ),
        st.tuples(st.just("checkout"), st.integers(0, CUSTOMERS - 1)),
        st.tuples(st.just("cancel"), st.integers(0, CUSTOMERS - 1), st.integers(0, 5)),
        st.tuples(
            st.just("move"),
            st.integers(0, 20),
            st.sampled_from(["paid", "shipped", "cancelled", "pending"]),
        ),
    ),
    min_size=1,
    max_size=20,
)


async def setup(app: FastAPI, db: asyncpg.Connection) -> tuple[list[Account], Account, list[str]]:
    customers = [
        minted(app, await make_user(db, email=f"c{i}@example.com"), f"c{i}@example.com")
        for i in range(CUSTOMERS)
    ]
    admin = minted(app, await make_user(db, email="a@example.com", role="admin"), "a")
    products = [await stocked(db, f"P{i}", stock, "3.25") for i, stock in enumerate((1, 3, 5, 8))]
    return customers, admin, products


async def run(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    step: tuple[Any, ...],
    customers: list[Account],
    admin: Account,
    products: list[str],
) -> None:
    kind = step[0]
    if kind == "cart":
        _, who, product, quantity = step
        path = f"/v1/cart/items/{products[product]}"
        if quantity:
            response = await client.put(
                path, json={"quantity": quantity}, headers=customers[who].headers
            )
            assert response.status_code in (200, 409)
        else:
            assert (await client.delete(path, headers=customers[who].headers)).status_code == 204
    elif kind == "checkout":
        response = await client.post(
            "/v1/checkout",
            headers=customers[step[1]].headers | {"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code in (201, 409, 422)
    elif kind == "cancel":
        orders = (await client.get("/v1/orders", headers=customers[step[1]].headers)).json()
        if orders["items"]:
            order = orders["items"][step[2] % len(orders["items"])]
            response = await client.post(
                f"/v1/orders/{order['id']}/cancel", headers=customers[step[1]].headers
            )
            assert response.status_code == (200 if order["status"] == "pending" else 409)
    else:
        ids = [r[0] for r in await db.fetch("SELECT id::text FROM orders ORDER BY created_at")]
        if ids:
            response = await client.post(
                f"/v1/admin/orders/{ids[step[1] % len(ids)]}/status",
                json={"status": step[2]},
                headers=admin.headers,
            )
            assert response.status_code in (200, 409)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=steps)
async def test_stock_and_totals_hold_after_every_step(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    sequence: list[tuple[Any, ...]],
) -> None:
    # Each example in a savepoint of the test's transaction, rolled back after it: the next
    # one starts from an empty shop.
    example = db.transaction()
    await example.start()
    try:
        customers, admin, products = await setup(app, db)
        for step in sequence:
            await run(client, db, step, customers, admin, products)
            await check(db)
    finally:
        await example.rollback()
