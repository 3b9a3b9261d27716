"""Fixtures: one fresh, migrated database per test run, on the embedded server or DATABASE_URL's.

- `database_url`: the run's database, migrated with the real migrations, dropped at the end.
- `conn`: a connection inside a transaction that is rolled back after the test, so tests
  leave nothing behind and can run in any order.
- `client`: an httpx client bound to the app (real pool on the run's database).
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TypedDict, Unpack
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import platformdirs
import pytest
from fastapi import FastAPI

from comptoir.app import create_app
from comptoir.auth.security import password_hasher
from comptoir.db import embedded, migrate
from comptoir.db.schema import with_database
from comptoir.deps import get_doors
from comptoir.settings import Settings
from tests.doors import ConnectionDoors
from tests.factories import ARGON2, Account, make_user, minted, password_hash
from tests.pooling.processes import pgbouncer
from tests.session_state import session_state

# The files that take longest (several seconds of subprocesses, servers, a browser or
# fuzzing each), longest first as measured in CI's passes (CONTRIBUTING.md, "How long a pass
# takes"). xdist (--dist loadfile) hands the files out in collection order: a long file
# drawn last by pytest-randomly's shuffle would run alone at the end while the other
# worker idles. Listed first, they start at once and the short files fill in around them;
# the order of the rest, and of the tests in each file, stays random.
LONGEST_FIRST = (
    "tests/ops/test_chaos_short.py",
    "tests/importer/test_guarantees.py",
    "tests/backoffice/test_browser.py",
    "tests/fuzz/test_api_2.py",
    "tests/fuzz/test_api_1.py",
    "tests/importer/test_contract.py",
    "tests/pooling/test_pgbouncer.py",
    "tests/test_serve.py",
    "tests/fuzz/test_api_3.py",
    "tests/pooling/test_replica.py",
    "tests/ops/test_workers.py",
    "tests/auth/test_auth.py",
    "tests/catalog/test_search.py",
    "tests/events/test_partitions.py",
    "tests/backoffice/test_demo_serve.py",
    "tests/checkout/test_concurrent_shop.py",
    "tests/db/test_indexes.py",
    "tests/rls/test_plans.py",
    "tests/pooling/test_instances.py",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the machine has cores. A pass spends much of its time
    waiting (servers and `comptoir serve` starting, the chaos run's faults, the browser,
    PgBouncer): with one worker per core, 15 % of the CPU stayed idle on the 2-core
    machine, and a third worker made pass 3 8 % shorter (CONTRIBUTING.md, "How long a pass
    takes")."""
    return (os.cpu_count() or 1) + 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (LONGEST_FIRST), after pytest-randomly's shuffle."""
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """The suite's argon2id parameters (tests/factories.py, ARGON2) for every Settings()
    and every process the suite starts: at the defaults, argon2id hashing was a quarter of
    the suite's time."""
    with pytest.MonkeyPatch.context() as patch:
        for field, value in ARGON2.items():
            patch.setenv(f"COMPTOIR_{field.upper()}", str(value))
        yield


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostgreSQL server the suite runs on."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    data_dir = Path(
        os.environ.get("COMPTOIR_TEST_DATA_DIR")
        or Path(platformdirs.user_cache_dir("comptoir", appauthor=False)) / "test-server"
    )
    return embedded.attach(data_dir)


def admin_sql(server_url: str, sql: str) -> None:
    """Run one statement on the server from sync code (no event loop running)."""

    async def run() -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def fresh_database(server_url: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_sql(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def migrated_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh database at the latest migration, dropped afterwards."""
    with fresh_database(server_url, prefix) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "comptoir_test") as url:
        yield url


@pytest.fixture(scope="session")
def api_database_url(database_url: str) -> Iterator[str]:
    """Where the API tests' connection goes: the run's database, or with
    COMPTOIR_TEST_VIA_PGBOUNCER=1 (CI's third pass) the same database through a real
    PgBouncer in transaction mode (one per xdist worker), as a shop behind a pooler runs
    (docs/deployment.md): each test's requests then travel as one pooled transaction."""
    if not os.environ.get("COMPTOIR_TEST_VIA_PGBOUNCER"):
        yield database_url
        return
    target = urlsplit(database_url)
    with pgbouncer(target.port or 5432, "transaction", [target.username or "postgres"]) as port:
        yield urlunsplit(target._replace(netloc=f"{target.username}@127.0.0.1:{port}"))


@pytest.fixture
async def conn(api_database_url: str, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    # Behind the pooler, as the app behind one (COMPTOIR_POOLER=pgbouncer): no statement cache.
    pooled = api_database_url != database_url
    connection = await asyncpg.connect(api_database_url, statement_cache_size=0 if pooled else 100)
    # Every statement sent on it, the API tests' requests included: none may leave session
    # state behind (tests/session_state.py).
    leaving_state: list[str] = []

    def watch(record: asyncpg.connection.LoggedQuery) -> None:
        if session_state(record.query):
            leaving_state.append(record.query)

    connection.add_query_logger(watch)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()
    assert not leaving_state, f"statements that leave session state: {leaving_state}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    # Rate limits off: the whole suite calls from one address. The unpaid-order policy off
    # too: the suite's customers place order after order, and nothing expires under a test.
    # Their own tests turn them on. The tests of hashing's cost itself hash as the app does
    # by default, not with the suite's cheap parameters.
    real = request.node.get_closest_marker("real_password_hashing") is not None
    hashing = {name: Settings.model_fields[name].default for name in ARGON2} if real else {}
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        pool_min=1,
        pool_max=10,
        rate_limits="off",
        max_pending_orders=1000,
        pending_order_ttl_minutes=0,
        **hashing,
    )


class Limits(TypedDict, total=False):
    """What the tests of a limit set on top of `limited_settings` (Settings' field names)."""

    auth_rate_limit: str
    login_account_rate_limit: str
    leads_rate_limit: str
    events_rate_limit: str
    events_bytes_rate_limit: str
    events_bytes_daily_limit: str
    trusted_proxies: str
    redis_url: str


def limited_settings(database_url: str, data_dir: Path, **limits: Unpack[Limits]) -> Settings:
    """Settings with the rate limits on, for the tests of a limit (`auth_rate_limit=...`)."""
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        pool_min=1,
        pool_max=2,
        rate_limits="on",
        **limits,
    )


@asynccontextmanager
async def client_of(
    app: FastAPI, address: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on `app` (its lifespan running), calling from `address`."""
    transport = httpx.ASGITransport(app=app, client=address)
    async with httpx.AsyncClient(transport=transport, base_url="http://comptoir.test") as client:
        yield client


@pytest.fixture
async def app(settings: Settings, conn: asyncpg.Connection) -> AsyncIterator[FastAPI]:
    """The app, its lifespan running, reaching the database through the test's connection
    (tests/doors.py): what its requests write is rolled back with the test."""
    application = create_app(settings)
    doors = ConnectionDoors(conn, rls=settings.rls == "on")

    async def test_doors() -> ConnectionDoors:
        return doors

    application.dependency_overrides[get_doors] = test_doors
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://comptoir.test") as c:
        yield c


TABLES = (
    "users, products, carts, cart_items, orders, order_items, leads, analytics_events,"
    " sessions, refresh_tokens, account_links, outbox_emails"
)


@pytest.fixture
async def committed(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """An autocommit connection for tests whose app runs on a pool of its own (races,
    several processes, a limit of their own): what the test commits is truncated after it."""
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        try:
            await connection.execute(f"TRUNCATE {TABLES} CASCADE")
        finally:
            await connection.close()


@pytest.fixture
async def db(conn: asyncpg.Connection) -> asyncpg.Connection:
    """The test's connection, the one the app's requests run on: it sees what they wrote."""
    return conn


async def _account(app: FastAPI, db: asyncpg.Connection, email: str, role: str) -> Account:
    # Hashed as the app hashes (the suite's parameters, or the defaults for the tests of
    # hashing itself): a login then costs what it would in production, and rehashes nothing.
    stored = password_hash(password_hasher(app.state.settings))
    return minted(app, await make_user(db, email=email, role=role, password_hash=stored), email)


@pytest.fixture
async def customer(app: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection) -> Account:
    return await _account(app, db, "customer@example.com", "customer")


@pytest.fixture
async def other_customer(
    app: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection
) -> Account:
    return await _account(app, db, "other@example.com", "customer")


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient, db: asyncpg.Connection) -> Account:
    return await _account(app, db, "admin@example.com", "admin")
