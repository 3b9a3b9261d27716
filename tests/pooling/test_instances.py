"""Two `serve` instances behind HAProxy on loopback, sharing one database and one Redis:
started together on an unmigrated database, tokens, logout, rate limits and webhooks work
across both, Redis down is a 503 (not a 500), and a rolling upgrade keeps the old instance
ready."""

import asyncio
import json
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from comptoir.db import migrate
from comptoir.payments.signature import sign
from tests.conftest import fresh_database
from tests.factories import PASSWORD
from tests.pooling.processes import haproxy, redis_server, serve_together


async def fetch(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def call(base: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    # A new connection per request, so that HAProxy's round robin spreads them.
    return httpx.request(method, f"{base}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]


def test_two_instances_behind_haproxy_act_as_one_shop(server_url: str, tmp_path: Path) -> None:
    with fresh_database(server_url, "comptoir_two") as url, redis_server() as (redis, store):
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": redis,
            "COMPTOIR_TRUSTED_PROXIES": "127.0.0.1",
            "COMPTOIR_AUTH_RATE_LIMIT": "6/minute",
            "COMPTOIR_PENDING_ORDER_TTL_MINUTES": "0",
            "COMPTOIR_POOL_MIN": "1",
        }
        # Both start at once on a database that needs every migration.
        instances = [env | {"COMPTOIR_DATA_DIR": str(tmp_path / name)} for name in "ab"]
        with serve_together(instances) as (a, b), haproxy([a, b]) as shop:
            email = f"t{uuid.uuid4().hex[:10]}@example.com"
            body = {"email": email, "password": PASSWORD}
            assert call(shop, "POST", "/v1/auth/register", json=body).status_code == 201
            login = call(shop, "POST", "/v1/auth/login", json=body)
            assert login.status_code == 200, login.text
            me = {"Authorization": f"Bearer {login.json()['access_token']}"}
            # A token from one instance is good on both; logout on one ends it on both.
            assert call(a, "GET", "/v1/me", headers=me).status_code == 200
            assert call(b, "GET", "/v1/me", headers=me).status_code == 200
            assert call(a, "POST", "/v1/auth/logout", headers=me).status_code == 204
            assert call(b, "GET", "/v1/me", headers=me).status_code == 401

            # Webhooks: the secret both instances kept is the one in the database.
            secret = asyncio.run(
                fetch(url, "SELECT value FROM app_secrets WHERE name = 'webhook_secret'")
            )
            assert isinstance(secret, str)
            event = json.dumps(
                {
                    "event_id": "evt_x",
                    "payment_intent_id": "pi_x",
                    "order_id": str(uuid.uuid4()),
                    "outcome": "succeeded",
                    "amount": "1.00",
                    "currency": "EUR",
                }
            ).encode()
            for base in (a, b):
                signed = {
                    "Comptoir-Signature": sign(secret, event, int(time.time())),
                    "Content-Type": "application/json",
                }
                assert (
                    call(
                        base, "POST", "/v1/payments/webhook", content=event, headers=signed
                    ).status_code
                    != 401
                )
                forged = signed | {"Comptoir-Signature": sign("x" * 32, event, int(time.time()))}
                assert (
                    call(
                        base, "POST", "/v1/payments/webhook", content=event, headers=forged
                    ).status_code
                    == 401
                )

            # Rate limits counted once for both: 6 a minute from this address, in all.
            # (One login above; the register has a budget of its own.)
            answers = [
                call(shop, "POST", "/v1/auth/login", json=body).status_code for _ in range(7)
            ]
            assert answers == [200] * 5 + [429] * 2, answers

            # Redis down: the limited endpoints answer 503 (fail closed), readiness says so
            # and stays 200, so the balancer keeps the instances.
            store.terminate()
            store.wait(timeout=30)
            assert call(shop, "POST", "/v1/auth/login", json=body).status_code == 503
            ready = call(a, "GET", "/readyz")
            assert ready.status_code == 200 and ready.json()["redis"] == "down", ready.text

            # A rolling upgrade: the next revision only adds, and says the code before it
            # is still served; the old instances stay ready. A contracting one does not.
            head = migrate.head_revision()
            asyncio.run(execute(url, "UPDATE alembic_version SET version_num = 'next';"
                              " INSERT INTO schema_serves VALUES ('next')"))  # fmt: skip
            assert call(a, "GET", "/readyz").status_code == 200
            assert call(b, "GET", "/readyz").json()["schema"] == "next"
            asyncio.run(execute(url, f"DELETE FROM schema_serves WHERE revision = '{head}'"))
            assert call(a, "GET", "/readyz").status_code == 503
            asyncio.run(execute(url, f"UPDATE alembic_version SET version_num = '{head}'"))
