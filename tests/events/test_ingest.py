"""POST /v1/events: one event or a batch of up to 1,000, all or nothing, the user from the
token, rate limited per client address."""

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.app import create_app
from tests.conftest import client_of, limited_settings
from tests.factories import Account


def batch(size: int, event_type: str = "page_view") -> dict[str, list[dict[str, object]]]:
    return {
        "events": [{"event_type": event_type, "payload": {"page": f"/p/{i}"}} for i in range(size)]
    }


async def stored(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT event_type, user_id, payload FROM analytics_events ORDER BY payload ->> 'page'"
    )


async def test_an_anonymous_event_has_no_user(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    response = await client.post(
        "/v1/events", json={"event_type": "page_view", "payload": {"page": "/"}}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1}
    rows = await stored(db)
    assert [(r["event_type"], r["user_id"]) for r in rows] == [("page_view", None)]


async def test_the_user_comes_from_the_token(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    response = await client.post("/v1/events", json=batch(3), headers=customer.headers)
    assert response.status_code == 202, response.text
    assert {r["user_id"] for r in await stored(db)} == {customer.id}


async def test_a_bad_token_counts_as_none(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    response = await client.post(
        "/v1/events",
        json={"event_type": "signup"},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 202, response.text
    rows = await db.fetch("SELECT user_id, payload FROM analytics_events")
    assert [(r["user_id"], r["payload"]) for r in rows] == [(None, "{}")]


async def test_a_batch_of_1000_lands_whole(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    response = await client.post("/v1/events", json=batch(1000))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1000}
    pages = await db.fetch("SELECT payload ->> 'page' AS page FROM analytics_events")
    assert sorted(r["page"] for r in pages) == sorted(f"/p/{i}" for i in range(1000))


async def test_one_bad_event_is_named_and_nothing_is_written(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    cases: list[tuple[int, dict[str, object], str]] = [
        (517, {"event_type": "   ", "payload": {}}, "event_type"),
        (518, {"event_type": "\t\n", "payload": {}}, "event_type"),
        (0, {"event_type": "x" * 101}, "event_type"),
        (999, {"event_type": "click", "payload": ["not", "an", "object"]}, "payload"),
        (42, {"event_type": "click", "payload": {}, "occurred_at": "yesterday"}, "occurred_at"),
        (3, {"payload": {}}, "event_type"),
        (4, {"event_type": 12}, "event_type"),
        (5, {"event_type": "click", "payload": None}, "payload"),
    ]
    for index, bad, field in cases:
        body = batch(1000)
        body["events"][index] = bad
        response = await client.post("/v1/events", json=body)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert f"Event {index} " in problem["detail"]
        assert problem["errors"][0]["loc"] == ["body", "events", index, field]
    assert await db.fetchval("SELECT count(*) FROM analytics_events") == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ([{"event_type": "click"}], ["body"]),
        ({"events": {"event_type": "click"}}, ["body"]),
        ({"events": [{"event_type": "click"}], "source": "web"}, ["body"]),
        ({"events": [{"event_type": "click"}, "click"]}, ["body", "events", 1]),
        ("click", ["body"]),
    ],
)
async def test_a_body_of_the_wrong_shape_is_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, body: object, loc: list[object]
) -> None:
    response = await client.post("/v1/events", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == loc
    assert "no event was recorded" in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM analytics_events") == 0


async def test_a_payload_too_large_is_named_and_nothing_is_written(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    body = batch(1000)
    body["events"][733]["payload"] = {"blob": "x" * 5000}
    response = await client.post("/v1/events", json=body)
    assert response.status_code == 422, response.text
    assert "Event 733 " in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "events", 733, "payload"]

    single = await client.post("/v1/events", json=body["events"][733])
    assert single.status_code == 422
    assert single.json()["errors"][0]["loc"] == ["body", "payload"]
    assert await db.fetchval("SELECT count(*) FROM analytics_events") == 0


async def test_batches_are_bounded_and_bodies_must_be_json(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    too_many = await client.post("/v1/events", json=batch(1001))
    empty = await client.post("/v1/events", json={"events": []})
    garbage = await client.post(
        "/v1/events", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    nul = await client.post("/v1/events", json={"event_type": "x", "payload": {"a": "\u0000"}})
    huge = await client.post(
        "/v1/events",
        content=b'{"event_type": "x", "payload": {"n": 1e200000}}',
        headers={"Content-Type": "application/json"},
    )
    for response in (too_many, empty, garbage, nul, huge):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM analytics_events") == 0


async def test_concurrent_batches_all_land_and_counts_add_up(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    # Every batch bumps the same daily counters: they must queue, not deadlock or lose counts.
    responses = await asyncio.gather(
        *(client.post("/v1/events", json=batch(200, t)) for t in ["a", "b"] * 8)
    )
    assert [r.status_code for r in responses] == [202] * 16
    counts = await db.fetch(
        "SELECT event_type, sum(count) AS n FROM analytics_events_daily GROUP BY 1 ORDER BY 1"
    )
    assert [(r["event_type"], r["n"]) for r in counts] == [("a", 1600), ("b", 1600)]


async def test_events_are_rate_limited_per_address(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    app = create_app(limited_settings(database_url, tmp_path, events_rate_limit="2/minute"))
    try:
        async with app.router.lifespan_context(app):
            async with client_of(app, ("203.0.113.8", 5000)) as client:
                statuses = [
                    (await client.post("/v1/events", json={"event_type": "x"})).status_code
                    for _ in range(3)
                ]
                refused = await client.post("/v1/events", json={"event_type": "x"})
    finally:
        await committed.execute("TRUNCATE analytics_events")
    assert statuses == [202, 202, 429]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_deeply_nested_json_is_a_problem_and_one_log_line(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    depth = 100_000
    deep = '{"event_type": "x", "payload": {"a": ' + "[" * depth + "]" * depth + "}}"
    with caplog.at_level("INFO"):
        response = await client.post(
            "/v1/events", content=deep, headers={"Content-Type": "application/json"}
        )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "nested" in response.json()["detail"]
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r.name for r in caplog.records if r.name.startswith("comptoir")] == []
    # The request's own log line, and nothing else: no traceback.
    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 1 and '"status": 422' in logged[0], logged
    assert await db.fetchval("SELECT count(*) FROM analytics_events") == 0


def sized_batch(size: int) -> dict[str, list[dict[str, object]]]:
    """A batch of 10 events whose body is about `size` bytes (counted: `size` + 4,000)."""
    return {"events": [{"event_type": "x", "payload": {"p": "y" * (size // 10)}}] * 10}


async def test_events_are_bounded_in_bytes_per_address(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    """Requests alone let one address store gigabytes a minute: bytes are counted too."""
    settings = limited_settings(database_url, tmp_path, events_bytes_rate_limit="20000/hour")
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            async with client_of(app, ("203.0.113.20", 5000)) as client:
                answers = [
                    await client.post("/v1/events", json=sized_batch(6000)) for _ in range(3)
                ]
            async with client_of(app, ("203.0.113.21", 5000)) as other:
                elsewhere = await other.post("/v1/events", json=sized_batch(6000))
    finally:
        await committed.execute("TRUNCATE analytics_events")
    # The budget is checked before and spent after: the request that crosses it lands.
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert "bytes" in answers[2].json()["detail"]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 3600
    assert elsewhere.status_code == 202


async def test_events_from_all_addresses_are_bounded_per_day(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    """A botnet, each address under its own budget, still meets the shop's daily one."""
    settings = limited_settings(database_url, tmp_path, events_bytes_daily_limit="30000/day")
    app = create_app(settings)
    statuses = []
    try:
        async with app.router.lifespan_context(app):
            for i in range(4):
                async with client_of(app, (f"198.51.100.{i}", 5000)) as client:
                    response = await client.post("/v1/events", json=sized_batch(8000))
                    statuses.append(response.status_code)
    finally:
        await committed.execute("TRUNCATE analytics_events")
    assert statuses == [202, 202, 202, 429]
