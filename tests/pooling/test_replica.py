"""A primary and a streaming replica on loopback, `serve` with the read URL: catalog reads
on the replica, writes and customer reads on the primary, the lag guard, a stopped replica,
and a standby given as DATABASE_URL."""

import asyncio
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.db import migrate
from tests.factories import PASSWORD
from tests.pooling.clusters import Node, primary_and_replica
from tests.pooling.processes import serve

TOKEN = "scraper-token-for-replicas"
METRICS = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def nodes() -> Iterator[tuple[Node, Node]]:
    with primary_and_replica() as (primary, replica):
        migrate.upgrade(primary.url())
        yield primary, replica


def app_user() -> str:
    return "postgres" if os.environ.get("COMPTOIR_RLS") == "off" else "comptoir_app"


def reads(base: str, node: str) -> float:
    text = httpx.get(f"{base}/metrics", headers=METRICS).text
    match = re.search(rf'^comptoir_db_reads_total\{{node="{node}"\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def until(what: str, check: Callable[[], bool]) -> None:
    """Wait for `check` to hold (the sampler, replication): readiness, not a fixed sleep."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def sql(url: str, statement: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def product_names(base: str) -> set[str]:
    page = httpx.get(f"{base}/v1/products?limit=100")
    assert page.status_code == 200, page.text
    return {item["name"] for item in page.json()["items"]}


def add_product(primary: Node, name: str) -> None:
    asyncio.run(
        sql(primary.url(), f"INSERT INTO products (name, price, stock) VALUES ('{name}', 5, 50)")
    )


def shopper(client: httpx.Client, product: str) -> None:
    """Register, cart, order: every answer right away, as the customer just wrote it."""
    email = f"r{uuid.uuid4().hex[:12]}@example.com"
    client.post("/v1/auth/register", json={"email": email, "password": PASSWORD}).raise_for_status()
    login = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    put = client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=headers)
    assert put.status_code == 200, put.text
    cart = client.get("/v1/cart", headers=headers).json()
    assert [line["quantity"] for line in cart["items"]] == [1], cart
    order = client.post(
        "/v1/checkout", json={}, headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert order.status_code == 201, order.text
    assert client.get(f"/v1/orders/{order.json()['id']}", headers=headers).status_code == 200
    assert client.post("/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_reads_on_the_replica_writes_and_own_reads_on_the_primary(
    nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    primary, replica = nodes
    add_product(primary, "Replicated")
    env = {
        "DATABASE_URL": primary.url(),
        "COMPTOIR_READ_DATABASE_URLS": replica.url(app_user()),
        "COMPTOIR_READ_MAX_LAG_BYTES": "0",
        "COMPTOIR_READ_LAG_SAMPLE_MS": "100",
        "COMPTOIR_METRICS_TOKEN": TOKEN,
        "COMPTOIR_RATE_LIMITS": "off",
        "COMPTOIR_DATA_DIR": str(tmp_path),
        "COMPTOIR_POOL_MIN": "1",
        "COMPTOIR_PENDING_ORDER_TTL_MINUTES": "0",
    }
    with serve(env) as base, httpx.Client(base_url=base, timeout=30) as client:
        # Reads served by the replica (the metric), once the sampler has seen it in step.
        before = reads(base, "replica")
        until(
            "a catalog read on the replica",
            lambda: bool(product_names(base)) and reads(base, "replica") > before,
        )
        product = asyncio.run(
            sql(primary.url(), "SELECT id::text FROM products WHERE name = 'Replicated'")
        )
        assert isinstance(product, str)
        # Writes on the primary, and the customer's own reads see them at once.
        for _ in range(5):
            shopper(client, product)

        # Lag past the setting: replay paused, a new product on the primary is listed
        # anyway, because the reads went to the primary.
        asyncio.run(sql(replica.url(), "SELECT pg_wal_replay_pause()"))
        try:
            add_product(primary, "Written during the lag")
            from_primary = reads(base, "primary")
            until("the new product listed", lambda: "Written during the lag" in product_names(base))
            assert reads(base, "primary") > from_primary
        finally:
            asyncio.run(sql(replica.url(), "SELECT pg_wal_replay_resume()"))

        # A stopped replica costs no request.
        replica.stop()
        try:
            answers = [client.get("/v1/products").status_code for _ in range(20)]
            assert answers == [200] * 20
        finally:
            replica.start()


def test_a_standby_as_the_database_answers_writes_503_read_only(
    nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    primary, replica = nodes
    # The secrets the primary's first instance kept, replicated: the standby reads them.
    env = {"DATABASE_URL": primary.url(), "COMPTOIR_DATA_DIR": str(tmp_path / "p")}
    with serve(env):
        pass
    until(
        "the secrets on the standby",
        lambda: asyncio.run(sql(replica.url(), "SELECT count(*) FROM app_secrets")) == 2,
    )
    env = {"DATABASE_URL": replica.url(), "COMPTOIR_DATA_DIR": str(tmp_path / "s")}
    with serve(env) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/v1/products").status_code == 200
        body = {"email": "standby@example.com", "password": PASSWORD}
        refused = client.post("/v1/auth/register", json=body)
        assert refused.status_code == 503, refused.text
        assert "read-only" in refused.json()["detail"]
