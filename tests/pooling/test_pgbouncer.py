"""The API through a real PgBouncer in transaction mode, two `serve` processes sharing it.

What went wrong before (issue 21): asyncpg's cached statements are named alike in every
process, so one process ran another's statement (and got its rows); startup parameters were
refused; exports used a named statement; owner commands took session locks through the
pooler. Here: many customers at once, each checking that every answer is theirs, then no
advisory lock left on any server session; owner work refused through the pooler.
"""

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from comptoir.db import migrate
from comptoir.db.direct import BehindPooler
from comptoir.db.pool import PoolerSettingsMissing
from comptoir.db.server import open_app_pool
from comptoir.settings import Settings
from tests.conftest import migrated_database
from tests.factories import PASSWORD, make_product
from tests.pooling.processes import pgbouncer, serve

CUSTOMERS = 16


def tcp_port(url: str) -> int:
    parts = urlsplit(url)
    if not parts.hostname:
        pytest.skip("PgBouncer needs the server on TCP (DATABASE_URL with a host)")
    return parts.port or 5432


def app_role() -> str:
    return "postgres" if os.environ.get("COMPTOIR_RLS") == "off" else "comptoir_app"


def url_via(port: int, database: str, user: str) -> str:
    return f"postgresql://{user}@127.0.0.1:{port}/{database}"


@pytest.fixture(scope="module")
def shop(server_url: str) -> Iterator[tuple[str, int]]:
    """A database of the module's own (its role settings change), and PgBouncer before it."""
    with migrated_database(server_url, "comptoir_pgb") as url:
        # Before PgBouncer opens its server sessions: a role's settings apply at login.
        asyncio.run(role_settings(url, app_role()))
        with pgbouncer(tcp_port(url), "transaction", ["postgres", "comptoir_app"]) as port:
            yield url, port


async def role_settings(url: str, role: str) -> None:
    conn = await asyncpg.connect(url)
    database = urlsplit(url).path.lstrip("/")
    try:
        await conn.execute(
            f'ALTER ROLE {role} IN DATABASE "{database}" SET statement_timeout = 15000;'
            f'ALTER ROLE {role} IN DATABASE "{database}" SET'
            " idle_in_transaction_session_timeout = 60000;"
            f'ALTER ROLE {role} IN DATABASE "{database}" SET jit = off'
        )
    finally:
        await conn.close()


def test_the_pool_refuses_a_pooler_without_the_roles_timeouts(
    server_url: str, tmp_path: Path
) -> None:
    with migrated_database(server_url, "comptoir_pgb") as url:
        database = urlsplit(url).path.lstrip("/")
        with pgbouncer(tcp_port(url), "transaction", ["postgres", "comptoir_app"]) as port:
            settings = Settings(
                database_url=url,
                app_database_url=url_via(port, database, app_role()),
                pooler="pgbouncer",
                data_dir=tmp_path,
                pool_min=1,
                pool_max=2,
            )
            with pytest.raises(PoolerSettingsMissing, match="ALTER ROLE"):
                asyncio.run(open_app_pool(settings, url))


def test_owner_commands_refuse_the_pooler(shop: tuple[str, int]) -> None:
    url, port = shop
    through = url_via(port, urlsplit(url).path.lstrip("/"), "postgres")
    with pytest.raises(BehindPooler, match="direct connection"):
        migrate.upgrade(through)


async def customer(client: httpx.AsyncClient, other: httpx.AsyncClient, product: str) -> None:
    """One customer's visit, spread over both instances; every answer must be theirs."""
    email = f"c{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": PASSWORD, "name": email}
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    login = await other.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for _ in range(3):
        me = await client.get("/v1/me", headers=headers)
        assert me.status_code == 200 and me.json()["email"] == email, me.text
        assert (await other.get("/v1/products")).status_code == 200
    line = await other.put(f"/v1/cart/items/{product}", json={"quantity": 2}, headers=headers)
    assert line.status_code == 200, line.text
    order = await client.post(
        "/v1/checkout", headers=headers | {"Idempotency-Key": str(uuid.uuid4())}, json={}
    )
    assert order.status_code == 201, order.text
    mine = await other.get(f"/v1/orders/{order.json()['id']}", headers=headers)
    assert mine.status_code == 200 and mine.json()["id"] == order.json()["id"], mine.text
    assert (await client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await other.get("/v1/me", headers=headers)).status_code == 401


async def test_two_servers_through_pgbouncer_serve_each_customer_their_own(
    shop: tuple[str, int], tmp_path: Path
) -> None:
    url, port = shop
    database = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(url)
    try:
        product = str(await make_product(conn, stock=CUSTOMERS * 2))
    finally:
        await conn.close()
    env = {
        "DATABASE_URL": url,
        "COMPTOIR_APP_DATABASE_URL": url_via(port, database, app_role()),
        "COMPTOIR_POOLER": "pgbouncer",
        "COMPTOIR_RATE_LIMITS": "off",
        "COMPTOIR_POOL_MIN": "1",
        "COMPTOIR_POOL_MAX": "4",
        # Correctness, not load: a slow moment on a shared machine must not turn into 503s.
        "COMPTOIR_POOL_WAIT_MS": "30000",
        "COMPTOIR_PENDING_ORDER_TTL_MINUTES": "0",
    }
    with (
        serve(env | {"COMPTOIR_DATA_DIR": str(tmp_path / "a")}) as a,
        serve(env | {"COMPTOIR_DATA_DIR": str(tmp_path / "b")}) as b,
    ):
        async with httpx.AsyncClient(base_url=a, timeout=30) as one:
            async with httpx.AsyncClient(base_url=b, timeout=30) as two:
                await asyncio.gather(
                    *(
                        customer(*((one, two) if i % 2 else (two, one)), product)
                        for i in range(CUSTOMERS)
                    )
                )
    conn = await asyncpg.connect(url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM pg_locks AS l JOIN pg_database AS d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND d.datname = current_database()"
        )
        stock = await conn.fetchval("SELECT stock FROM products WHERE id = $1", uuid.UUID(product))
    finally:
        await conn.close()
    assert left == 0
    assert stock == 0
