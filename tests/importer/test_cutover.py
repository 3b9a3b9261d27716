"""Moving day: a rehearsal import, changes on both sides (in the legacy store, and through
the API in Comptoir), then the cutover import of the final snapshot."""

import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from comptoir.importer.run import KEPT_HASH_NOTE
from comptoir.users.admins import create_or_promote_admin
from tests.importer import legacy_hashes as h
from tests.importer.conftest import login, run_import, write_store

PASSWORD = "Old-Secret-42"
HASHES = [h.bcrypt_hash(PASSWORD), h.bcrypt_hash(PASSWORD)]  # the same in every snapshot


def snapshot(root: Path, **changes: Any) -> Path:
    """The legacy store (an Express app's files), with `changes` applied to its records."""
    users = [
        {"id": "u1", "email": "ann@shop.test", "passwordHash": HASHES[0]},
        {"id": "u2", "email": "bob@shop.test", "passwordHash": HASHES[1]},
    ]
    products = [
        {"id": "A", "name": "Mug", "price": 10, "stock": 5},
        {"id": "B", "name": "Cup", "price": 4, "stock": 9},
        {"id": "C", "name": "Pot", "price": 30, "stock": 1},
    ]
    orders = [
        {
            "id": n,
            "userId": "u1",
            "status": "pending",
            "createdAt": "2024-01-0" + n,
            "items": [{"productId": "A", "quantity": 1, "price": 10}],
        }
        for n in ("1", "2")
    ]
    collections: dict[str, list[Any]] = {"users": users, "products": products, "orders": orders}
    for name, edit in changes.items():
        collections[name] = edit(collections[name])
    return write_store(root, **collections)  # fmt: skip


def changed_there(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    a, b, _ = products  # C is gone; D is new; A's stock and B's price changed
    return [{**a, "stock": 2}, {**b, "price": 5}, {"id": "D", "name": "Jug", "price": 12}]


async def test_the_cutover_adds_updates_and_reports_conflicts_and_gone_records(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    rehearsal = await run_import(import_url, snapshot(tmp_path / "rehearsal"))
    assert rehearsal.exit_code() == 0 and rehearsal.cutover == {}

    # In Comptoir, through the API: B's price (also changed there: a conflict), and order 2
    # paid (changed here only).
    await create_or_promote_admin(import_url, email="boss@shop.test", password="boss-pass-1")
    token = (
        await shop.post(
            "/v1/auth/login", json={"email": "boss@shop.test", "password": "boss-pass-1"}
        )
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    b = await idb.fetchval("SELECT id FROM products WHERE legacy_id = 'B'")
    assert (
        await shop.patch(f"/v1/products/{b}", json={"price": "4.40"}, headers=headers)
    ).is_success
    o2 = await idb.fetchval("SELECT id FROM orders WHERE legacy_id = '2'")
    moved = await shop.post(
        f"/v1/admin/orders/{o2}/status", json={"status": "paid"}, headers=headers
    )
    assert moved.is_success, moved.text

    final = snapshot(
        tmp_path / "final",
        products=changed_there,
        users=lambda users: [users[0], {**users[1], "email": "robert@shop.test"}],
        orders=lambda orders: [{**orders[0], "status": "shipped"}, orders[1]],
    )
    cutover = await run_import(import_url, final)

    assert cutover.cutover["products"] == {
        "added": 1,
        "updated": 1,
        "unchanged": 0,
        "conflicting": 1,
        "gone": 1,
    }
    assert cutover.cutover["users"] == {
        "added": 0,
        "updated": 1,
        "unchanged": 1,
        "conflicting": 0,
        "gone": 0,
    }
    assert cutover.cutover["orders"] == {
        "added": 0,
        "updated": 1,
        "unchanged": 1,
        "conflicting": 0,
        "gone": 0,
    }
    rows = {
        r[0]: r[1]
        for r in await idb.fetch("SELECT legacy_id, price::text || ' x' || stock FROM products")
    }
    assert rows == {"A": "10.00 x2", "B": "4.40 x9", "C": "30.00 x1", "D": "12.00 x0"}
    statuses = {r[0]: r[1] for r in await idb.fetch("SELECT legacy_id, status::text FROM orders")}
    assert statuses == {"1": "shipped", "2": "paid"}
    assert cutover.gone["products"] == ["C"]
    [conflict] = cutover.conflicts
    assert conflict["legacy_id"] == "B"
    assert conflict["changed in the legacy store (before, after)"] == {"price": [4, 5]}
    assert conflict["kept: Comptoir's version"]["price"] == "4.40"
    assert await login(shop, "robert@shop.test", PASSWORD) == 200
    assert await login(shop, "bob@shop.test", PASSWORD) == 401

    # The legacy record as support finds it, and the same snapshot again changes nothing.
    source = await idb.fetchval(
        "SELECT source FROM import_sources WHERE collection = 'products' AND legacy_id = 'A'"
    )
    assert json.loads(source) == {"id": "A", "name": "Mug", "price": 10, "stock": 2}
    again = await run_import(import_url, final)
    # B stays a conflict until the shop settles it; nothing else moves.
    assert again.cutover["products"] == {
        "added": 0,
        "updated": 0,
        "unchanged": 2,
        "conflicting": 1,
        "gone": 1,
    }


async def test_plain_text_passwords_through_rehearsal_and_cutover(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Plain-text passwords are hashed anew at each import (a new salt): the cutover must
    still find an account changed there only as updated, not as a conflict, and the new
    password logs in."""
    users = [
        {"id": "p1", "email": "pia@shop.test", "name": "Pia", "password": "Plain-Secret-1"},
        {"id": "p2", "email": "paul@shop.test", "name": "Paul", "password": "Plain-Secret-2",
         "createdAt": "2020-01-01"},
        # Paul again, younger: merged into the first record, whose password is kept.
        {"id": "p3", "email": " PAUL@shop.test ", "password": "Plain-Secret-3",
         "createdAt": "2030-01-01"},
    ]  # fmt: skip
    rehearsal = await run_import(import_url, write_store(tmp_path / "rehearsal", users=users))
    assert rehearsal.exit_code() == 0
    stored = await idb.fetch("SELECT password_hash FROM users ORDER BY email")
    assert [row[0][:10] for row in stored] == ["$argon2id$"] * 2
    assert await login(shop, "pia@shop.test", "Plain-Secret-1") == 200
    assert await login(shop, "paul@shop.test", "Plain-Secret-2") == 200

    users[0] = {**users[0], "name": "Pia M.", "password": "Plain-Secret-4"}
    cutover = await run_import(import_url, write_store(tmp_path / "final", users=users))
    assert cutover.cutover["users"] == {
        "added": 0,
        "updated": 1,
        "unchanged": 2,
        "conflicting": 0,
        "gone": 0,
    }
    assert await login(shop, "pia@shop.test", "Plain-Secret-4") == 200
    assert await login(shop, "pia@shop.test", "Plain-Secret-1") == 401
    assert await login(shop, "paul@shop.test", "Plain-Secret-2") == 200


async def test_the_cutover_hashes_only_the_passwords_that_changed(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A store of plain-text passwords: each one costs argon2id's time at import, so the
    cutover hashes only those of new and changed records; the unchanged ones keep the hash
    their account has, and every account logs in with its password from the final
    snapshot."""
    hashed, kept = "plain-text password hashed with argon2id", KEPT_HASH_NOTE
    users = [
        {"id": f"p{n}", "email": f"p{n}@shop.test", "password": f"Plain-Secret-{n}"}
        for n in (1, 2, 3)
    ]
    rehearsal = await run_import(import_url, write_store(tmp_path / "rehearsal", users=users))
    assert rehearsal.collections["users"].notes[hashed] == 3
    assert kept not in rehearsal.collections["users"].notes
    hashes = "SELECT email::text, password_hash FROM users"
    before = {row["email"]: row["password_hash"] for row in await idb.fetch(hashes)}

    users[0] = {**users[0], "password": "Plain-Secret-changed"}
    users.append({"id": "p4", "email": "p4@shop.test", "password": "Plain-Secret-4"})
    cutover = await run_import(import_url, write_store(tmp_path / "final", users=users))
    assert cutover.exit_code() == 0
    notes = cutover.collections["users"].notes
    assert (notes[hashed], notes[kept]) == (2, 2)
    assert cutover.cutover["users"]["updated"] == 1
    assert cutover.cutover["users"]["added"] == 1
    after = {row["email"]: row["password_hash"] for row in await idb.fetch(hashes)}
    assert after["p2@shop.test"] == before["p2@shop.test"]
    assert after["p1@shop.test"] != before["p1@shop.test"]
    assert await login(shop, "p1@shop.test", "Plain-Secret-changed") == 200
    assert await login(shop, "p1@shop.test", "Plain-Secret-1") == 401
    for n in (2, 3, 4):
        assert await login(shop, f"p{n}@shop.test", f"Plain-Secret-{n}") == 200

    # The hashes are made after the accounts are written; the fingerprints the next
    # cutover compares with are those of the accounts as they end up.
    again = await run_import(import_url, write_store(tmp_path / "again", users=users))
    assert again.cutover["users"] == {
        "added": 0, "updated": 0, "unchanged": 4, "conflicting": 0, "gone": 0,
    }  # fmt: skip
