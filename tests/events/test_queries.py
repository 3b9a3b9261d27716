"""GET /v1/admin/events: filters by type, period, user, payload containment; keyset pages;
each filter on its index, and a period on its months' partitions only (EXPLAIN)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from comptoir.events.queries import EventFilter, page_query
from tests.factories import Account, make_user

NOW = datetime.now(UTC)


async def add_events(
    db: asyncpg.Connection, rows: list[tuple[str, UUID | None, dict[str, object], datetime]]
) -> None:
    await db.executemany(
        "INSERT INTO analytics_events (event_type, user_id, payload, created_at)"
        " VALUES ($1, $2, $3::jsonb, $4)",
        [(t, u, json.dumps(p), at) for t, u, p, at in rows],
    )


async def listed(client: httpx.AsyncClient, admin: Account, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/admin/events", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_filters_combine_newest_first(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    hour = timedelta(hours=1)
    await add_events(
        db,
        [
            ("add_to_cart", customer.id, {"sku": "A1", "qty": 2}, NOW - 5 * hour),
            ("add_to_cart", None, {"sku": "B2"}, NOW - 4 * hour),
            ("page_view", customer.id, {"page": "/"}, NOW - 3 * hour),
            ("add_to_cart", customer.id, {"sku": "A1", "qty": 1}, NOW - 2 * hour),
            ("page_view", None, {"page": "/cart"}, NOW - 1 * hour),
        ],
    )
    everything = await listed(client, admin)
    assert [e["created_at"] for e in everything] == sorted(
        (e["created_at"] for e in everything), reverse=True
    )
    assert len(everything) == 5, everything
    by_type = await listed(client, admin, type="add_to_cart")
    assert [e["payload"]["sku"] for e in by_type] == ["A1", "B2", "A1"]
    by_user = await listed(client, admin, user_id=str(customer.id))
    assert [e["event_type"] for e in by_user] == ["add_to_cart", "page_view", "add_to_cart"]
    by_payload = await listed(client, admin, payload='{"sku":"A1"}')
    assert [e["payload"] for e in by_payload] == [{"sku": "A1", "qty": 1}, {"sku": "A1", "qty": 2}]
    period = await listed(
        client,
        admin,
        type="add_to_cart",
        **{"from": (NOW - 4 * hour).isoformat(), "to": (NOW - 2 * hour).isoformat()},
    )
    assert [e["payload"]["sku"] for e in period] == ["B2"]


async def test_pages_follow_the_cursor_without_repeats(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    # Equal timestamps in pairs: the id breaks the ties.
    await add_events(
        db, [("tick", None, {"n": i}, NOW - timedelta(seconds=i // 2)) for i in range(25)]
    )
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/admin/events", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        seen += [e["payload"]["n"] for e in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == list(range(25))


@pytest.mark.parametrize(
    "params",
    [
        {"payload": "[1, 2]"},
        {"payload": "{not json"},
        {"from": "2026-01-01T00:00:00"},  # no time zone
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "0001-01-01T00:00:00+05:00"},
        {"cursor": "nonsense"},
        {"user_id": "not-a-uuid"},
    ],
)
async def test_bad_filters_are_422(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str]
) -> None:
    response = await client.get("/v1/admin/events", params=params, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ plans

FILL = """
INSERT INTO analytics_events (event_type, user_id, payload, created_at)
SELECT CASE WHEN i % 1000 = 0 THEN 'refund'
            ELSE (ARRAY['page_view', 'add_to_cart', 'search', 'checkout'])[1 + i % 4] END,
       CASE WHEN i % 500 = 0 THEN $1::uuid END,
       jsonb_build_object('sku', 'SKU' || (i % 5000), 'page', '/p/' || (i % 300)),
       date_trunc('month', now()) + make_interval(secs => i * 20)
FROM generate_series(1, 40000) AS i
"""


async def plan(conn: asyncpg.Connection, filters: EventFilter) -> str:
    query, args = page_query(filters, 20)
    rows = await conn.fetch(f"EXPLAIN (COSTS OFF) {query}", *args)
    return "\n".join(r[0] for r in rows)


@pytest.fixture
async def filled(conn: asyncpg.Connection) -> asyncpg.Connection:
    """40,000 events this month, and partitions for three earlier months (rolled back)."""
    await conn.execute("SELECT create_analytics_events_partitions(now() - interval '3 months', 3)")
    user = await make_user(conn)
    await conn.execute(FILL, user)
    # What (auto)vacuum does, and a test transaction cannot: move the GIN pending list into
    # the index proper, which the planner prices the index by.
    await conn.execute(
        "SELECT gin_clean_pending_list(i.indexrelid::regclass) FROM pg_index AS i"
        " JOIN pg_inherits AS p ON p.inhrelid = i.indrelid"
        " WHERE p.inhparent = 'analytics_events'::regclass"
        "   AND i.indexrelid::regclass::text LIKE '%payload%'"
    )
    await conn.execute("ANALYZE analytics_events")
    return conn


async def test_payload_containment_uses_the_gin_index(filled: asyncpg.Connection) -> None:
    shown = await plan(filled, EventFilter(payload={"sku": "SKU42"}))
    assert "Bitmap Index Scan on analytics_events_y" in shown, shown
    assert "payload_idx" in shown


async def test_type_and_user_filters_use_their_indexes(filled: asyncpg.Connection) -> None:
    user = await filled.fetchval("SELECT user_id FROM analytics_events WHERE user_id IS NOT NULL")
    this_month = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Selective filters: for a type in every fourth event, reading (created_at DESC) and
    # skipping the others is the better plan, and the planner rightly takes it.
    by_type = EventFilter(event_type="refund", since=this_month, until=NOW + timedelta(days=1))
    assert "event_type_created_at_idx" in await plan(filled, by_type)
    assert "user_id_created_at_idx" in await plan(filled, EventFilter(user_id=user))
    # analytics_events_recent_idx: partitions name their copies after its expression.
    recent = f"timezone_idx on analytics_events_y{NOW:%Y}m{NOW:%m}"
    assert recent in await plan(filled, EventFilter())
    assert recent in await plan(filled, EventFilter(until=NOW - timedelta(hours=1)))


async def test_a_period_reads_only_its_partitions(filled: asyncpg.Connection) -> None:
    this_month = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    partitions = [
        r["relname"]
        for r in await filled.fetch(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'analytics_events'::regclass"
        )
    ]
    assert len(partitions) >= 5  # three earlier months, this one, the next, DEFAULT
    shown = await plan(
        filled, EventFilter(since=this_month + timedelta(days=2), until=this_month + timedelta(3))
    )
    scanned = {p for p in partitions if p in shown}
    assert scanned == {f"analytics_events_y{NOW:%Y}m{NOW:%m}"}, shown
