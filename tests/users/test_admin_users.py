"""User administration, with the seed's ON DELETE rules seen through the API."""

import asyncpg
import httpx

from tests.factories import Account, make_product, make_user


async def test_list_users_by_email_in_pages(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    for i in range(12):
        await make_user(db, email=f"zz{i:02}@example.com")
    emails: list[str] = []
    cursor = None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/admin/users", params=params, headers=admin.headers)).json()
        emails += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert emails == sorted(emails, key=str.lower)
    assert len(emails) == 13
    assert "password_hash" not in str(page)


async def test_change_role(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    response = await client.patch(
        f"/v1/admin/users/{customer.id}", json={"role": "admin"}, headers=admin.headers
    )
    assert response.json()["role"] == "admin"
    # Effective at once: roles are read from the database, not from the token.
    listing = await client.get("/v1/admin/users", headers=customer.headers)
    assert listing.status_code == 200
    bad = await client.patch(
        f"/v1/admin/users/{customer.id}", json={"role": "root"}, headers=admin.headers
    )
    assert bad.status_code == 422
    unknown = await client.patch(
        "/v1/admin/users/00000000-0000-0000-0000-000000000000",
        json={"role": "admin"},
        headers=admin.headers,
    )
    assert unknown.status_code == 404


async def test_an_admin_cannot_demote_or_delete_themselves(
    client: httpx.AsyncClient, admin: Account
) -> None:
    demote = await client.patch(
        f"/v1/admin/users/{admin.id}", json={"role": "customer"}, headers=admin.headers
    )
    delete = await client.delete(f"/v1/admin/users/{admin.id}", headers=admin.headers)
    assert demote.status_code == delete.status_code == 409
    assert (await client.get("/v1/me", headers=admin.headers)).json()["role"] == "admin"


async def test_delete_user_takes_the_cart_and_keeps_events(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    product = await make_product(db)
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=customer.headers)
    await db.execute(
        "INSERT INTO analytics_events (event_type, user_id) VALUES ('page_view', $1)", customer.id
    )
    response = await client.delete(f"/v1/admin/users/{customer.id}", headers=admin.headers)
    assert response.status_code == 204
    assert await db.fetchval("SELECT count(*) FROM carts") == 0
    assert await db.fetchval("SELECT count(*) FROM cart_items") == 0
    assert await db.fetchval("SELECT user_id FROM analytics_events") is None
    # The deleted user's token no longer works.
    assert (await client.get("/v1/me", headers=customer.headers)).status_code == 401
    again = await client.delete(f"/v1/admin/users/{customer.id}", headers=admin.headers)
    assert again.status_code == 404


async def test_a_user_with_orders_is_kept(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    await db.execute("INSERT INTO orders (user_id, total_amount) VALUES ($1, 0)", customer.id)
    response = await client.delete(f"/v1/admin/users/{customer.id}", headers=admin.headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM users WHERE id = $1", customer.id) == 1
