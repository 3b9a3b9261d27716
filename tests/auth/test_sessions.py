"""Refresh tokens as a storefront lives with them: rotated at each use, one use each, a
reuse ends the session, logout and password change end what they say."""

from typing import Any

import asyncpg
import httpx

from tests.factories import PASSWORD, Account


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/v1/auth/refresh", json={"refresh_token": token})


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_a_refresh_gives_new_tokens_and_spends_the_old_one(
    client: httpx.AsyncClient, customer: Account
) -> None:
    first = await _login(client, customer.email)
    assert first["expires_in"] == 900 and first["refresh_expires_in"] == 30 * 86400
    response = await _refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/v1/me", headers=_bearer(second))).status_code == 200
    # The successor works in turn.
    third = await _refresh(client, second["refresh_token"])
    assert third.status_code == 200
    assert (await client.get("/v1/me", headers=_bearer(third.json()))).status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, customer: Account
) -> None:
    stolen = await _login(client, customer.email)
    elsewhere = await _login(client, customer.email)
    rotated = (await _refresh(client, stolen["refresh_token"])).json()
    reused = await _refresh(client, stolen["refresh_token"])
    assert reused.status_code == 401
    assert reused.headers["content-type"] == "application/problem+json"
    assert "already used" in reused.json()["detail"]
    # Every token of that login is dead: the access tokens and the latest refresh token.
    for tokens in (stolen, rotated):
        assert (await client.get("/v1/me", headers=_bearer(tokens))).status_code == 401
    assert (await _refresh(client, rotated["refresh_token"])).status_code == 401
    # Another login of the same customer goes on.
    assert (await client.get("/v1/me", headers=_bearer(elsewhere))).status_code == 200
    assert (await _refresh(client, elsewhere["refresh_token"])).status_code == 200


async def test_refresh_tokens_are_stored_hashed(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    tokens = await _login(client, customer.email)
    stored = await db.fetch("SELECT token_hash FROM refresh_tokens")
    assert stored and all(
        tokens["refresh_token"].encode() not in row["token_hash"] for row in stored
    )
    dump = str(await db.fetch("SELECT * FROM refresh_tokens"))
    assert tokens["refresh_token"] not in dump


async def test_logout_ends_the_sessions_refresh_token(
    client: httpx.AsyncClient, customer: Account
) -> None:
    tokens = await _login(client, customer.email)
    assert (await client.post("/v1/auth/logout", headers=_bearer(tokens))).status_code == 204
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 401


async def test_password_change_ends_the_other_sessions_refresh_tokens(
    client: httpx.AsyncClient, customer: Account
) -> None:
    this = await _login(client, customer.email)
    other = await _login(client, customer.email)
    changed = await client.put(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "another good one"},
        headers=_bearer(this),
    )
    assert changed.status_code == 204
    assert (await _refresh(client, other["refresh_token"])).status_code == 401
    assert (await _refresh(client, this["refresh_token"])).status_code == 200


async def test_an_unknown_or_malformed_refresh_token_is_refused(
    client: httpx.AsyncClient, customer: Account
) -> None:
    assert (await _refresh(client, "not a token")).status_code == 401
    empty = await client.post("/v1/auth/refresh", json={"refresh_token": ""})
    assert empty.status_code == 422
    extra = await client.post("/v1/auth/refresh", json={"refresh_token": "x", "more": 1})
    assert extra.status_code == 422


async def test_an_expired_refresh_token_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    tokens = await _login(client, customer.email)
    await db.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 401


async def test_deleting_the_account_ends_its_refresh_tokens(
    client: httpx.AsyncClient, customer: Account, admin: Account
) -> None:
    tokens = await _login(client, customer.email)
    deleted = await client.delete(f"/v1/admin/users/{customer.id}", headers=admin.headers)
    assert deleted.status_code == 204
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 401
    assert (await client.get("/v1/me", headers=_bearer(tokens))).status_code == 401
