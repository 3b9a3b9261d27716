"""Imported customers log in with their old passwords and find their orders and cart,
under the account they were merged into."""

from pathlib import Path

import asyncpg
import bcrypt
import httpx

from tests.importer.conftest import rejects, run_import, write_store

BCRYPT = bcrypt.hashpw(b"old-secret-1", bcrypt.gensalt(4)).decode()


def store(root: Path) -> Path:
    user = {"role": "user", "createdAt": "2021-01-01T00:00:00Z"}
    return write_store(
        root,
        users=[
            {**user, "id": 1, "email": "ann@shop.test", "passwordHash": BCRYPT},
            {**user, "id": 2, "email": "bob@shop.test", "password": "plain-secret-2"},
            {**user, "id": 3, "email": "cy@shop.test"},
            # Ann again, registered later with another case: merged into her first account.
            {
                **user,
                "id": 4,
                "email": "ANN@shop.test ",
                "password": "forgotten",
                "createdAt": "2024-01-01T00:00:00Z",
            },
            # A plain-text password that a reject must not leak.
            {**user, "id": 3, "email": "dup@shop.test", "password": "never-leaked"},
        ],
        products=[{"id": 10, "name": "Mug", "price": "12,50", "stock": 4}],
        carts=[{"userId": 4, "items": [{"productId": 10, "quantity": 2}]}],
        orders=[
            {
                "id": 100,
                "userId": 4,
                "status": "completed",
                "total": 25,
                "items": [{"productId": 10, "quantity": 2, "unitPrice": 12.5}],
                "paymentIntentId": "pi_100",
                "createdAt": "2024-02-01T00:00:00Z",
            },
        ],
    )


async def login(shop: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await shop.post("/v1/auth/login", json={"email": email, "password": password})


async def test_imported_customers_log_in_with_their_legacy_passwords(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    await run_import(import_url, store(tmp_path / "store"))

    assert (await login(shop, "ann@shop.test", "old-secret-1")).status_code == 200
    assert (await login(shop, "bob@shop.test", "plain-secret-2")).status_code == 200
    assert (await login(shop, "bob@shop.test", "wrong")).status_code == 401
    assert (await login(shop, "cy@shop.test", "anything")).status_code == 401


async def test_a_bcrypt_hash_is_replaced_by_argon2id_at_the_first_login(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    await run_import(import_url, store(tmp_path / "store"))
    assert await idb.fetchval("SELECT password_hash FROM users WHERE legacy_id = '1'") == BCRYPT

    assert (await login(shop, "ann@shop.test", "old-secret-1")).status_code == 200

    stored = await idb.fetchval("SELECT password_hash FROM users WHERE legacy_id = '1'")
    assert stored.startswith("$argon2id$")
    assert (await login(shop, "ann@shop.test", "old-secret-1")).status_code == 200


async def test_plain_text_passwords_reach_neither_the_database_nor_the_rejects_file(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    report = await run_import(import_url, store(tmp_path / "store"))

    hashes = [row[0] for row in await idb.fetch("SELECT password_hash FROM users")]
    assert all(h is None or h.startswith(("$argon2id$", "$2b$")) for h in hashes)
    assert not await idb.fetchval(
        "SELECT count(*) FROM users WHERE password_hash LIKE '%secret%'"
        " OR password_hash LIKE '%leaked%'"
    )
    [reject] = rejects(report)
    assert "never-leaked" not in str(reject)
    assert reject["record"]["password"] == "********"
    assert reject["reason"] == "duplicate id"


async def test_orders_and_cart_of_a_merged_account_belong_to_the_account_it_merged_into(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    await run_import(import_url, store(tmp_path / "store"))
    token = (await login(shop, "ann@shop.test", "old-secret-1")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    orders = (await shop.get("/v1/orders", headers=headers)).json()
    cart = (await shop.get("/v1/cart", headers=headers)).json()

    [order] = orders["items"]
    assert (order["status"], order["total"], order["payment_intent_id"]) == (
        "shipped", "25.00", "pi_100",
    )  # fmt: skip
    assert [(line["name"], line["quantity"]) for line in order["items"]] == [("Mug", 2)]
    assert [(line["name"], line["quantity"]) for line in cart["items"]] == [("Mug", 2)]
    assert await idb.fetchval("SELECT legacy_id FROM orders") == "100"
