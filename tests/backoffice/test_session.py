"""The back office's browser session: an admin's token in an httpOnly cookie, the CSRF
header on unsafe requests, ended by logout, refused to customers."""

import time
import uuid

import asyncpg
import httpx
import jwt
from fastapi import FastAPI

from tests.factories import PASSWORD, Account, make_product, make_user

SESSION = "/v1/auth/session"


async def sign_in(client: httpx.AsyncClient, email: str) -> httpx.Response:
    response = await client.post(SESSION, json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


def cookie_headers(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie lines by cookie name."""
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


async def test_an_admin_gets_an_httponly_strict_cookie_and_a_csrf_token(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await sign_in(client, admin.email)
    cookies = cookie_headers(response)
    session, csrf = cookies["comptoir_session"], cookies["comptoir_csrf"]
    assert "HttpOnly" in session and "SameSite=strict" in session
    assert "HttpOnly" not in csrf and "SameSite=strict" in csrf
    # Served over plain HTTP here: no Secure flag, or the browser would drop the cookie.
    assert "Secure" not in session
    assert response.json()["csrf_token"] == client.cookies["comptoir_csrf"]
    # The token itself is nowhere in the body a script could read.
    assert client.cookies["comptoir_session"] not in response.text
    me = await client.get("/v1/me")
    assert (me.status_code, me.json()["email"]) == (200, admin.email)


async def test_over_https_the_cookies_are_secure(app: FastAPI, admin: Account) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://shop.test") as client:
        response = await sign_in(client, admin.email)
    for line in cookie_headers(response).values():
        assert "Secure" in line


async def test_a_customer_is_refused_and_gets_no_cookie(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(SESSION, json={"email": customer.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "administrators" in response.json()["detail"]
    assert "set-cookie" not in response.headers


async def test_a_wrong_password_is_401_as_for_login(
    client: httpx.AsyncClient, admin: Account
) -> None:
    response = await client.post(SESSION, json={"email": admin.email, "password": "not it!"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


async def test_unsafe_requests_by_cookie_need_the_csrf_header(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    csrf = (await sign_in(client, admin.email)).json()["csrf_token"]
    product = await make_product(db, stock=3)
    # What a form on another page of the site could send with the cookie: refused.
    forged = await client.patch(f"/v1/products/{product}", json={"stock": 0})
    assert forged.status_code == 403
    wrong = await client.patch(
        f"/v1/products/{product}", json={"stock": 0}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    assert await db.fetchval("SELECT stock FROM products WHERE id = $1", product) == 3
    done = await client.patch(
        f"/v1/products/{product}", json={"stock": 0}, headers={"X-CSRF-Token": csrf}
    )
    assert done.status_code == 200, done.text
    assert await db.fetchval("SELECT stock FROM products WHERE id = $1", product) == 0


async def test_a_bearer_token_needs_no_csrf_header(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    product = await make_product(db, stock=3)
    response = await client.patch(
        f"/v1/products/{product}", json={"stock": 1}, headers=admin.headers
    )
    assert response.status_code == 200


async def test_logging_out_ends_the_session_even_for_a_kept_copy(
    client: httpx.AsyncClient, admin: Account
) -> None:
    csrf = (await sign_in(client, admin.email)).json()["csrf_token"]
    kept = client.cookies["comptoir_session"]
    out = await client.delete(SESSION, headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    # The browser is told to forget both cookies...
    for line in cookie_headers(out).values():
        assert "Max-Age=0" in line or "expires=" in line.lower()
    # ...and a copy kept by someone else no longer works.
    client.cookies.set("comptoir_session", kept)
    again = await client.get("/v1/me")
    assert again.status_code == 401


async def test_an_expired_session_cookie_is_401(
    app: FastAPI, client: httpx.AsyncClient, admin: Account
) -> None:
    await sign_in(client, admin.email)
    claims = jwt.decode(client.cookies["comptoir_session"], options={"verify_signature": False})
    now = int(time.time())
    expired = {**claims, "jti": str(uuid.uuid4()), "iat": now - 7200, "exp": now - 60}
    token = jwt.encode(expired, app.state.jwt_secret, algorithm="HS256")
    client.cookies.set("comptoir_session", token)
    response = await client.get("/v1/me")
    assert response.status_code == 401


async def test_the_session_lasts_the_setting(
    client: httpx.AsyncClient, admin: Account, app: FastAPI
) -> None:
    response = await sign_in(client, admin.email)
    minutes = app.state.settings.browser_session_minutes
    assert response.json()["expires_in"] == minutes * 60
    claims = jwt.decode(client.cookies["comptoir_session"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == minutes * 60
    assert f"Max-Age={minutes * 60}" in cookie_headers(response)["comptoir_session"]


async def test_a_demoted_admin_loses_the_back_office(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    await sign_in(client, admin.email)
    await db.execute("UPDATE users SET role = 'customer' WHERE id = $1", admin.id)
    response = await client.get("/v1/admin/orders")
    assert response.status_code == 403


async def test_users_are_searched_by_a_part_of_their_email(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    for email in ("Alice.Martin@example.com", "bob@example.com", "malice@example.org"):
        await make_user(db, email=email)
    response = await client.get("/v1/admin/users", params={"email": "ALICE"}, headers=admin.headers)
    assert response.status_code == 200
    emails = [u["email"] for u in response.json()["items"]]
    assert emails == ["Alice.Martin@example.com", "malice@example.org"]
