"""The summary reads the daily rollup; whatever writes events, it must say what a GROUP BY
over the events themselves says."""

import json
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.factories import Account

TODAY = datetime.now(UTC).date()

GROUP_BY = """
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, event_type, count(*) AS count
FROM analytics_events
WHERE (created_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2
GROUP BY 1, 2 ORDER BY 1, 2
"""


async def summary(
    client: httpx.AsyncClient, admin: Account, first: date, last: date
) -> list[tuple[date, str, int]]:
    response = await client.get(
        "/v1/admin/events/summary",
        params={"from": first.isoformat(), "to": last.isoformat()},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == (first.isoformat(), last.isoformat())
    return [(date.fromisoformat(i["day"]), i["event_type"], i["count"]) for i in body["items"]]


async def truth(db: asyncpg.Connection, first: date, last: date) -> list[tuple[date, str, int]]:
    return [(r["day"], r["event_type"], r["count"]) for r in await db.fetch(GROUP_BY, first, last)]


async def test_summary_equals_a_group_by_over_the_events(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    first, last = TODAY - timedelta(days=40), TODAY
    # Over HTTP, in batches, with and without a user.
    for kind in ("page_view", "search", "add_to_cart"):
        events = [{"event_type": kind, "payload": {"i": i}} for i in range(50)]
        response = await client.post(
            "/v1/events", json={"events": events}, headers=customer.headers
        )
        assert response.status_code == 202
    # By SQL, on earlier days, one midnight UTC exactly, and by COPY.
    await db.execute(
        "INSERT INTO analytics_events (event_type, payload, created_at)"
        " SELECT (ARRAY['page_view', 'signup'])[1 + i % 2], '{}',"
        "        date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        "        - make_interval(hours => i * 7)"
        " FROM generate_series(0, 120) AS i"
    )
    await db.copy_records_to_table(
        "analytics_events",
        records=[
            ("checkout", json.dumps({"n": i}), datetime.now(UTC) - timedelta(days=i % 35))
            for i in range(300)
        ],
        columns=["event_type", "payload", "created_at"],
    )
    assert await summary(client, admin, first, last) == await truth(db, first, last)

    # Updates and deletes move the counts too.
    await db.execute(
        "UPDATE analytics_events SET event_type = 'purchase' WHERE event_type = 'checkout'"
        " AND created_at > now() - interval '10 days'"
    )
    await db.execute("DELETE FROM analytics_events WHERE event_type = 'signup'")
    after = await summary(client, admin, first, last)
    assert after == await truth(db, first, last)
    assert "signup" not in {kind for _, kind, _ in after}
    assert "purchase" in {kind for _, kind, _ in after}


async def test_summary_defaults_to_the_last_30_days(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    await db.execute(
        "INSERT INTO analytics_events (event_type, created_at)"
        " SELECT 'visit', now() - make_interval(days => i) FROM generate_series(0, 59) AS i"
    )
    response = await client.get("/v1/admin/events/summary", headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["to"] == TODAY.isoformat()
    assert body["from"] == (TODAY - timedelta(days=29)).isoformat()
    assert sum(i["count"] for i in body["items"]) == 30


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
        {"from": "yesterday"},
        {"to": "0001-01-01"},
        {"from": "9999-12-31", "to": "9999-12-31"},
    ],
)
async def test_bad_periods_are_422(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str]
) -> None:
    response = await client.get("/v1/admin/events/summary", params=params, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_earliest_days_answer_days(client: httpx.AsyncClient, admin: Account) -> None:
    # The default 30 days before 0001-01-05 would leave the calendar: they start at its start.
    response = await client.get(
        "/v1/admin/events/summary", params={"to": "0001-01-05"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"from": "0001-01-02", "to": "0001-01-05", "items": []}
