"""Accounts and tokens, as a customer and an attacker would meet them."""

import asyncio
import os
import secrets
import socket
import time
from pathlib import Path

import asyncpg
import bcrypt
import httpx
import jwt
import pytest
from fastapi import FastAPI

from comptoir.app import create_app
from tests.conftest import client_of, limited_settings
from tests.factories import PASSWORD, Account, login, make_user


async def test_register_then_login_then_me(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": " Jeanne@Example.com ", "password": "un mot de passe", "name": "Jeanne"},
    )
    assert response.status_code == 201
    created = response.json()
    assert (created["email"], created["role"], created["name"]) == (
        "Jeanne@example.com",
        "customer",
        "Jeanne",
    )
    assert "password" not in response.text and "hash" not in response.text

    login_response = await client.post(
        "/v1/auth/login", json={"email": "JEANNE@example.com", "password": "un mot de passe"}
    )
    assert login_response.status_code == 200
    body = login_response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == created["id"]


async def test_email_taken_whatever_the_case(client: httpx.AsyncClient, customer: Account) -> None:
    response = await client.post(
        "/v1/auth/register", json={"email": "CUSTOMER@example.COM", "password": PASSWORD}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "12345678"},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": "12345678", "role": "admin"},
    ],
)
async def test_bad_registration_is_422_and_creates_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, body: dict[str, str]
) -> None:
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["errors"]
    assert await db.fetchval("SELECT count(*) FROM users") == 0


async def test_wrong_password_and_unknown_email_answer_the_same(
    client: httpx.AsyncClient, customer: Account
) -> None:
    wrong = await client.post(
        "/v1/auth/login", json={"email": customer.email, "password": "not the password"}
    )
    unknown = await client.post(
        "/v1/auth/login", json={"email": "nobody@example.com", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


@pytest.mark.real_password_hashing
async def test_wrong_password_and_unknown_email_take_about_the_same_time(
    client: httpx.AsyncClient, customer: Account
) -> None:
    async def timed(email: str) -> float:
        start = time.perf_counter()
        await client.post("/v1/auth/login", json={"email": email, "password": "nope-nope"})
        return time.perf_counter() - start

    # Interleaved, and the fastest of each kept: a busy machine slows some calls down, never
    # speeds one up, so the minimum is the cost of the work itself.
    wrong, unknown = [], []
    for _ in range(6):
        wrong.append(await timed(customer.email))
        unknown.append(await timed("nobody@example.com"))
    # Both verify an argon2id hash; without the dummy verification an unknown email would
    # answer in a fraction of the time (under 1/20 here).
    assert 1 / 3 < min(unknown) / min(wrong) < 3


@pytest.mark.real_password_hashing
async def test_legacy_bcrypt_accounts_answer_as_slowly_as_unknown_emails(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    """Which accounts were imported must not show: a wrong password against a bcrypt hash
    (cheap at low costs) takes as long as an unknown email or an argon2id account."""
    legacy = bcrypt.hashpw(b"ancien-mot-de-passe", bcrypt.gensalt(rounds=4)).decode()
    await make_user(db, email="legacy-timing@example.com", password_hash=legacy)

    async def timed(email: str) -> float:
        start = time.perf_counter()
        response = await client.post("/v1/auth/login", json={"email": email, "password": "nope1"})
        assert response.status_code == 401
        return time.perf_counter() - start

    # Interleaved, fastest of each kept, as above.
    imported, unknown, native = [], [], []
    for _ in range(6):
        imported.append(await timed("legacy-timing@example.com"))
        unknown.append(await timed("nobody@example.com"))
        native.append(await timed(customer.email))
    # Without the equalising, the bcrypt account answered in about 1/50 of the time here.
    assert 1 / 2 < min(imported) / min(unknown) < 2
    assert 1 / 2 < min(imported) / min(native) < 2


async def test_account_without_password_cannot_log_in(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await make_user(db, email="imported@example.com", password_hash=None)
    response = await client.post(
        "/v1/auth/login", json={"email": "imported@example.com", "password": PASSWORD}
    )
    assert response.status_code == 401


async def test_legacy_bcrypt_login_rehashes_to_argon2id(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    legacy = bcrypt.hashpw(b"ancien-mot-de-passe", bcrypt.gensalt(rounds=4)).decode()
    legacy = "$2a$" + legacy[4:]  # as the Node.js bcrypt libraries wrote them
    user = await make_user(db, email="legacy@example.com", password_hash=legacy)

    token = await login(client, "legacy@example.com", "ancien-mot-de-passe")
    stored = await db.fetchval("SELECT password_hash FROM users WHERE id = $1", user)
    assert stored.startswith("$argon2id$")
    # The old password still works, now against the new hash; the token from the
    # rehashing login stays good.
    await login(client, "legacy@example.com", "ancien-mot-de-passe")
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


async def test_token_stops_working_after_logout(
    client: httpx.AsyncClient, customer: Account
) -> None:
    other_session = await login(client, customer.email)
    assert (await client.post("/v1/auth/logout", headers=customer.headers)).status_code == 204
    after = await client.get("/v1/me", headers=customer.headers)
    assert after.status_code == 401
    assert after.headers["content-type"] == "application/problem+json"
    # Logging out ends this token only, not the customer's other sessions.
    other = await client.get("/v1/me", headers={"Authorization": f"Bearer {other_session}"})
    assert other.status_code == 200


async def test_password_change_keeps_this_session_and_ends_the_others(
    client: httpx.AsyncClient, customer: Account
) -> None:
    this_session = await login(client, customer.email)
    other_session = await login(client, customer.email)
    this = {"Authorization": f"Bearer {this_session}"}
    refused = await client.put(
        "/v1/me/password",
        json={"current_password": "wrong password", "new_password": "a brand new one"},
        headers=this,
    )
    # Not 401: a client reads that as "logged out".
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/me", headers=this)).status_code == 200
    changed = await client.put(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new one"},
        headers=this,
    )
    assert changed.status_code == 204
    assert (await client.get("/v1/me", headers=this)).status_code == 200
    # The other login and a token minted without a session both end.
    for token in (customer.token, other_session):
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    await login(client, customer.email, "a brand new one")


async def test_forged_expired_and_alg_none_tokens_are_refused(
    client: httpx.AsyncClient, app: FastAPI, customer: Account
) -> None:
    claims = jwt.decode(customer.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another secret, long enough to be a key", algorithm="HS256")
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 10}, app.state.jwt_secret, algorithm="HS256"
    )
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token in (forged, expired, unsigned, "garbage", customer.token + "x"):
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


@pytest.mark.real_password_hashing
async def test_hashing_does_not_stall_other_requests(
    client: httpx.AsyncClient, customer: Account
) -> None:
    """Eight logins at once hash in threads; a cheap request sent meanwhile is answered
    before any of them. Were the hashing on the event loop, it would wait behind one at
    least. (An order of events, not a duration: nothing here depends on the machine's speed
    beyond a hash costing more than a health check.)"""
    finished: list[str] = []

    async def log_in() -> httpx.Response:
        response = await client.post(
            "/v1/auth/login", json={"email": customer.email, "password": PASSWORD}
        )
        finished.append("login")
        return response

    async def health() -> httpx.Response:
        await asyncio.sleep(0)  # the logins are under way
        response = await client.get("/healthz")
        finished.append("health")
        return response

    answers = await asyncio.gather(*(log_in() for _ in range(8)), health())
    assert [a.status_code for a in answers] == [200] * 9
    assert finished[0] == "health", finished


async def test_login_is_rate_limited_per_address(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    app = create_app(limited_settings(database_url, tmp_path, auth_rate_limit="3/minute"))
    async with app.router.lifespan_context(app):
        body = {"email": "nobody@example.com", "password": "whatever1"}
        async with client_of(app, ("203.0.113.7", 5000)) as client:
            statuses = [
                (await client.post("/v1/auth/login", json=body)).status_code for _ in range(3)
            ]
            limited = await client.post("/v1/auth/login", json=body)
        async with client_of(app, ("198.51.100.9", 5000)) as other:
            elsewhere = await other.post("/v1/auth/login", json=body)
    assert statuses == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 401


async def test_register_is_rate_limited_apart_from_login(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    app = create_app(limited_settings(database_url, tmp_path, auth_rate_limit="2/minute"))
    emails = [f"burst-{secrets.token_hex(4)}@example.com" for _ in range(3)]
    async with app.router.lifespan_context(app):
        async with client_of(app, ("203.0.113.8", 5000)) as client:
            registered = [
                (
                    await client.post(
                        "/v1/auth/register", json={"email": email, "password": PASSWORD}
                    )
                ).status_code
                for email in emails
            ]
            login = await client.post(
                "/v1/auth/login", json={"email": emails[0], "password": PASSWORD}
            )
    assert registered == [201, 201, 429]
    assert login.status_code == 200  # registering spent none of the logins
    stored = await committed.fetchval(
        "SELECT count(*) FROM users WHERE email = ANY($1::text[])", emails
    )
    assert stored == 2


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    host, port = url.split("//", 1)[1].split("/")[0].rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
    except OSError:
        return None
    return url


async def test_rate_limit_is_shared_through_redis(database_url: str, tmp_path: Path) -> None:
    """Two workers (two apps) with REDIS_URL count the same client together."""
    url = redis_url()
    if url is None:
        pytest.skip("no Redis server reachable (set REDIS_URL); the memory store is tested above")
    settings = limited_settings(database_url, tmp_path, auth_rate_limit="2/minute", redis_url=url)
    # An address no earlier run used: Redis keeps the counters between runs.
    address = (f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}", 5000)
    # And an account no earlier run used: failed logins also count per account.
    email = f"x-{secrets.token_hex(4)}@example.com"
    statuses = []
    for _ in range(2):
        app = create_app(settings)
        async with app.router.lifespan_context(app), client_of(app, address) as client:
            for _ in range(2):
                response = await client.post(
                    "/v1/auth/login", json={"email": email, "password": "whatever1"}
                )
                statuses.append(response.status_code)
    assert statuses == [401, 401, 429, 429]
