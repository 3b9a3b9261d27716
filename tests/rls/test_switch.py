"""COMPTOIR_RLS: which role the app serves as, and what a request leaves on its connection."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal, TypedDict, Unpack
from uuid import uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from comptoir.app import create_app
from comptoir.db.door import customer
from comptoir.db.server import app_database_url
from comptoir.settings import Settings
from tests.factories import make_user, minted


class More(TypedDict, total=False):
    app_database_url: str


def settings_for(
    database_url: str, tmp_path: Path, rls: Literal["on", "off"], **more: Unpack[More]
) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        pool_min=1,
        pool_max=2,
        rate_limits="off",
        rls=rls,
        **more,
    )


@pytest.fixture
async def rls_app(database_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    application = create_app(settings_for(database_url, tmp_path, "on"))
    async with application.router.lifespan_context(application):
        yield application


@pytest.mark.parametrize(("rls", "role"), [("on", "comptoir_app"), ("off", None)])
async def test_the_pool_logs_in_as_the_apps_role_only_with_rls_on(
    database_url: str, tmp_path: Path, rls: Literal["on", "off"], role: str | None
) -> None:
    application = create_app(settings_for(database_url, tmp_path, rls))
    async with application.router.lifespan_context(application):
        current = await application.state.pool.fetchval("SELECT current_user")
    owner = await _owner(database_url)
    assert current == (role or owner)


async def _owner(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        user: str = await conn.fetchval("SELECT current_user")
        return user
    finally:
        await conn.close()


async def test_a_request_leaves_no_customer_on_its_pooled_connection(
    rls_app: FastAPI, committed: asyncpg.Connection
) -> None:
    account = minted(rls_app, await make_user(committed, email="pooled@example.com"), "x")
    transport = httpx.ASGITransport(app=rls_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://comptoir.test") as c:
        assert (await c.get("/v1/cart", headers=account.headers)).status_code == 200
        assert (await c.get("/v1/orders", headers=account.headers)).status_code == 200
        # Checkout sets the buyer inside its one statement (an empty cart: refused, 422).
        headers = {**account.headers, "Idempotency-Key": "pooled"}
        assert (await c.post("/v1/checkout", headers=headers)).status_code == 422
    # pool_max=2: whichever connection served the requests, both are checked.
    pool = rls_app.state.pool
    async with pool.acquire() as first, pool.acquire() as second:
        for conn in (first, second):
            assert await conn.fetchval("SELECT request_user_id()") is None
            assert await conn.fetchval("SELECT current_user") == "comptoir_app"
            assert not conn.is_in_transaction()


def test_the_app_url_is_the_database_url_as_comptoir_app(tmp_path: Path) -> None:
    def app_url(url: str, **more: Unpack[More]) -> str:
        return app_database_url(settings_for(url, tmp_path, "on", **more), url)

    assert app_url("postgresql://owner:secret@db.example:5433/shop?sslmode=require") == (
        "postgresql://comptoir_app@db.example:5433/shop?sslmode=require"
    )
    assert app_url("postgresql://postgres:@/comptoir?host=/run/pg") == (
        "postgresql://comptoir_app@/comptoir?host=/run/pg"
    )
    given = "postgresql://shop_app:pw@db.example/shop"
    assert app_url("postgresql://owner@db.example/shop", app_database_url=given) == given
    off = settings_for("postgresql://owner@h/shop", tmp_path, "off")
    assert app_database_url(off, "postgresql://owner@h/shop") == "postgresql://owner@h/shop"


async def test_a_missing_app_role_stops_the_start_with_a_clear_word(
    database_url: str, tmp_path: Path
) -> None:
    as_app = app_database_url(settings_for(database_url, tmp_path, "on"), database_url)
    missing = as_app.replace("comptoir_app@", "comptoir_nosuchrole@", 1)
    bad = settings_for(database_url, tmp_path, "on", app_database_url=missing)
    application = create_app(bad)
    with pytest.raises(RuntimeError, match="COMPTOIR_RLS is on but the app cannot log in"):
        async with application.router.lifespan_context(application):
            pass


async def test_a_failed_transaction_leaves_its_connection_clean(rls_app: FastAPI) -> None:
    someone = customer(uuid4(), "customer")

    async def divide_by_zero(conn: asyncpg.Connection) -> None:
        await conn.execute("SELECT 1 / 0")

    doors = rls_app.state.doors
    for verb in ("one", "transaction"):
        with pytest.raises(asyncpg.DivisionByZeroError):
            if verb == "one":
                await doors.to(someone).one(divide_by_zero)
            else:
                async with doors.to(someone).transaction() as conn:
                    await divide_by_zero(conn)
    pool = rls_app.state.pool
    async with pool.acquire() as first, pool.acquire() as second:
        for conn in (first, second):
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT request_user_id()") is None
