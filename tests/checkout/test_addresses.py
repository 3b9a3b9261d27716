"""Addresses at checkout: validated, copied onto the order, saved on the account; and a
replay after a cancellation shows the order as it is now."""

import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.checkout.invariants import stocked
from tests.conftest import client_of
from tests.factories import Account, make_user, minted

HOME = {
    "name": "Jeanne Martin",
    "line1": "12 rue des Lilas",
    "line2": "Bâtiment B",
    "postal_code": "75011",
    "city": "Paris",
    "country": "FR",
    "phone": "+33 6 12 34 56 78",
}
OFFICE = {
    "name": "Martin SARL",
    "line1": "3 quai Est",
    "postal_code": "69002",
    "city": "Lyon",
    "country": "fr",
}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def fill(client: httpx.AsyncClient, db: asyncpg.Connection, who: Account) -> str:
    product = await stocked(db, "Lampe", 10, "20.00")
    put = await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=who.headers)
    assert put.status_code == 200, put.text
    return product


async def test_the_addresses_are_snapshotted_on_the_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    await fill(client, db, customer)
    body = {"shipping_address": HOME, "billing_address": OFFICE}
    placed = await client.post("/v1/checkout", json=body, headers=customer.headers | key())
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["shipping_address"] == HOME
    assert order["billing_address"] == OFFICE | {"country": "FR", "line2": None, "phone": None}
    # Saving, then deleting, addresses on the account never rewrites the order.
    saved = await client.post("/v1/me/addresses", json=OFFICE, headers=customer.headers)
    assert saved.status_code == 201
    gone = await client.delete(f"/v1/me/addresses/{saved.json()['id']}", headers=customer.headers)
    assert gone.status_code == 204
    again = await client.get(f"/v1/orders/{order['id']}", headers=customer.headers)
    assert again.json()["shipping_address"] == HOME


async def test_bad_addresses_and_unknown_fields_are_422_and_order_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    await fill(client, db, customer)
    bad: list[dict[str, Any]] = [
        {"shipping_address": HOME | {"country": "XX"}},
        {"shipping_address": HOME | {"country": "France"}},
        {"shipping_address": HOME | {"postal_code": ""}},
        {"shipping_address": HOME | {"phone": "call me maybe"}},
        {"shipping_address": {k: v for k, v in HOME.items() if k != "city"}},
        {"shipping_address": HOME | {"floor": 3}},
        {"shipping_address": HOME, "note": "leave it at the door"},
    ]
    for body in bad:
        response = await client.post("/v1/checkout", json=body, headers=customer.headers | key())
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM orders") == 0


async def test_a_shop_that_ships_requires_a_shipping_address(
    committed: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        pool_min=1,
        pool_max=2,
        rate_limits="off",
        pending_order_ttl_minutes=0,
        shipping_address="required",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_of(app) as client:
        who = minted(app, await make_user(committed), "ships@example.com")
        await fill(client, committed, who)
        missing = await client.post("/v1/checkout", headers=who.headers | key())
        assert missing.status_code == 422
        assert "shipping_address" in missing.json()["detail"]
        placed = await client.post(
            "/v1/checkout", json={"shipping_address": HOME}, headers=who.headers | key()
        )
        assert placed.status_code == 201


async def test_saved_addresses_belong_to_their_customer(
    client: httpx.AsyncClient, customer: Account, other_customer: Account
) -> None:
    saved = await client.post("/v1/me/addresses", json=HOME, headers=customer.headers)
    assert saved.status_code == 201
    assert saved.json()["country"] == "FR"
    listed = await client.get("/v1/me/addresses", headers=customer.headers)
    assert [a["id"] for a in listed.json()["items"]] == [saved.json()["id"]]
    assert (await client.get("/v1/me/addresses", headers=other_customer.headers)).json() == {
        "items": []
    }
    stolen = await client.delete(
        f"/v1/me/addresses/{saved.json()['id']}", headers=other_customer.headers
    )
    assert stolen.status_code == 404
    bad = await client.post(
        "/v1/me/addresses", json=HOME | {"country": "ZZ"}, headers=customer.headers
    )
    assert bad.status_code == 422
    assert (
        len((await client.get("/v1/me/addresses", headers=customer.headers)).json()["items"]) == 1
    )


async def test_a_replay_after_cancellation_shows_the_order_as_it_is_now(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    await fill(client, db, customer)
    headers = customer.headers | key()
    placed = await client.post("/v1/checkout", json={"shipping_address": HOME}, headers=headers)
    assert placed.json()["status"] == "pending"
    cancel = await client.post(f"/v1/orders/{placed.json()['id']}/cancel", headers=customer.headers)
    assert cancel.status_code == 200
    replay = await client.post("/v1/checkout", json={"shipping_address": HOME}, headers=headers)
    assert replay.headers["Idempotency-Replay"] == "true"
    assert (replay.json()["id"], replay.json()["status"]) == (placed.json()["id"], "cancelled")
    assert await db.fetchval("SELECT count(*) FROM orders") == 1
