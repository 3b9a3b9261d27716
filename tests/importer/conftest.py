"""Imports commit, and create partitions for the months of old events: they get a database
of their own, emptied after each test."""

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from comptoir.app import create_app
from comptoir.importer.mapping import Mapping
from comptoir.importer.report import Report
from comptoir.importer.run import import_store
from comptoir.settings import Settings
from tests.conftest import client_of, migrated_database
from tests.factories import TEST_HASHER

TABLES = (
    "users, products, carts, cart_items, orders, order_items, leads, analytics_events,"
    " idempotency_keys, revoked_tokens, import_sources"
)


@pytest.fixture(scope="package")
def import_url(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "comptoir_import") as url:
        yield url


@pytest.fixture
async def idb(import_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the import database; what the test imported is removed after it."""
    connection = await asyncpg.connect(import_url)
    try:
        yield connection
    finally:
        await connection.execute(f"TRUNCATE {TABLES} CASCADE")
        await connection.close()


@pytest.fixture
async def shop(import_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the import database."""
    settings = Settings(database_url=import_url, data_dir=tmp_path, pool_min=1, pool_max=4,
                        rate_limits="off")  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_of(app) as client:
        yield client


def write_store(root: Path, **collections: list[Any]) -> Path:
    """A legacy store directory with the given collections (analytics as NDJSON)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, items in collections.items():
        if name == "analytics":
            lines = (json.dumps(item) for item in items)
            (root / "analytics.ndjson").write_text("".join(f"{line}\n" for line in lines))
        else:
            (root / f"{name}.json").write_text(json.dumps(items))
    return root


async def run_import(
    url: str,
    root: Path,
    *,
    dry_run: bool = False,
    mapping: Mapping | None = None,
    all_or_nothing: bool = False,
) -> Report:
    report = await import_store(
        url, root, dry_run=dry_run, rejects_path=root.parent / f"{root.name}-rejects.jsonl",
        mapping=mapping, all_or_nothing=all_or_nothing, hasher=TEST_HASHER,
    )  # fmt: skip
    assert report.balanced(), report
    return report


async def login(shop: httpx.AsyncClient, email: str, password: str) -> int:
    """The status of a login through the API: 200 in, 401 refused."""
    response = await shop.post("/v1/auth/login", json={"email": email, "password": password})
    return response.status_code


def rejects(report: Report) -> list[dict[str, Any]]:
    if report.rejects_file is None:
        return []
    lines = Path(report.rejects_file).read_text().splitlines()
    return [json.loads(line) for line in lines]
