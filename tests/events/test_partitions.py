"""Partition upkeep on real partitions, in a database of its own (partitions are DDL, and
these tests commit): creation ahead, the DEFAULT partition drained, retention with export,
two copies at once."""

import asyncio
import csv
import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.db.partitions import (
    add_months,
    maintain_partitions,
    partition_name,
    prepare_at_start,
)
from tests.conftest import migrated_database

THIS_MONTH = datetime.now(UTC).date().replace(day=1)


@pytest.fixture
def own_url(server_url: str) -> Iterator[str]:
    """A database of the test's own: partition upkeep creates and drops tables, which a
    rollback cannot undo, and the tests run in any order."""
    with migrated_database(server_url, "comptoir_partitions") as url:
        yield url


@pytest.fixture
async def pg(own_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(own_url)
    try:
        yield conn
    finally:
        await conn.execute("TRUNCATE analytics_events")
        await conn.close()


async def partitions(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'analytics_events'::regclass"
    )
    return {r["relname"] for r in rows}


async def rollup_matches(conn: asyncpg.Connection) -> bool:
    differences: int = await conn.fetchval(
        "SELECT count(*) FROM ("
        "  (SELECT day, event_type, count FROM analytics_events_daily"
        "   EXCEPT SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, count(*)"
        "          FROM analytics_events GROUP BY 1, 2)"
        "  UNION ALL"
        "  (SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, count(*)"
        "   FROM analytics_events GROUP BY 1, 2"
        "   EXCEPT SELECT day, event_type, count FROM analytics_events_daily)) AS d"
    )
    return differences == 0


async def test_creates_this_month_and_the_next_three_once(pg: asyncpg.Connection) -> None:
    ahead = {partition_name(add_months(THIS_MONTH, i)) for i in range(4)}
    done = await maintain_partitions(pg)
    assert ahead <= await partitions(pg)
    # The migration made this month's and the next; the two after are new.
    assert done == [
        f"created partition {partition_name(add_months(THIS_MONTH, i))}" for i in (2, 3)
    ]
    assert await maintain_partitions(pg) == []  # nothing left to do


async def test_events_in_default_move_to_their_month(pg: asyncpg.Connection) -> None:
    # Far from any partition: they land in DEFAULT, then maintenance gives them their month.
    await pg.execute(
        "INSERT INTO analytics_events (event_type, payload, created_at) VALUES"
        " ('late', '{\"n\": 1}', '2019-05-31T23:59:59.999999Z'),"
        " ('late', '{\"n\": 2}', '2019-05-01T00:00:00Z'),"
        " ('early', '{\"n\": 3}', '2040-02-10T12:00:00Z'),"
        " ('june', '{}', '2019-06-01T00:00:00Z')"
    )
    in_default = await pg.fetchval("SELECT count(*) FROM analytics_events_default")
    assert in_default == 4

    done = await maintain_partitions(pg)

    assert "moved 2 events from analytics_events_default into analytics_events_y2019m05" in done
    assert "moved 1 events from analytics_events_default into analytics_events_y2040m02" in done
    assert await pg.fetchval("SELECT count(*) FROM analytics_events_default") == 0
    placed = await pg.fetch(
        "SELECT tableoid::regclass::text AS part, payload FROM analytics_events ORDER BY 1, 2"
    )
    assert [(r["part"], r["payload"]) for r in placed] == [
        ("analytics_events_y2019m05", '{"n": 1}'),
        ("analytics_events_y2019m05", '{"n": 2}'),
        ("analytics_events_y2019m06", "{}"),
        ("analytics_events_y2040m02", '{"n": 3}'),
    ]
    assert await rollup_matches(pg)  # moving rows between partitions changes no count


async def test_retention_detaches_exports_and_drops(pg: asyncpg.Connection, tmp_path: Path) -> None:
    old, kept = add_months(THIS_MONTH, -14), add_months(THIS_MONTH, -12)
    await pg.execute(
        "SELECT create_analytics_events_partitions($1::timestamp AT TIME ZONE 'UTC', 3)", old
    )
    await pg.execute(
        "INSERT INTO analytics_events (event_type, payload, created_at)"
        " SELECT 'visit', jsonb_build_object('formula', '=1+1', 'i', i),"
        "        $1::timestamp AT TIME ZONE 'UTC' + make_interval(days => i % 90)"
        " FROM generate_series(0, 299) AS i",
        old,
    )
    assert await rollup_matches(pg)

    done = await maintain_partitions(pg, retention_months=12, export_dir=tmp_path / "exports")

    gone = [partition_name(old), partition_name(add_months(old, 1))]
    left = await partitions(pg)
    assert not set(gone) & left
    assert partition_name(kept) in left
    for name in gone:
        assert await pg.fetchval("SELECT to_regclass($1)", name) is None  # dropped too
        assert f"dropped {name}" in done
        with gzip.open(tmp_path / "exports" / f"{name}.csv.gz", "rt") as f:
            rows = list(csv.DictReader(f))
        assert rows and {r["event_type"] for r in rows} == {"visit"}
    exported = sum(int(line.split()[1]) for line in done if line.startswith("exported"))
    remaining = await pg.fetchval("SELECT count(*) FROM analytics_events")
    assert exported + remaining == 300
    assert await rollup_matches(pg)  # the summary forgets what was dropped
    assert not list((tmp_path / "exports").glob("*.partial"))


async def test_a_partition_left_detached_is_finished(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    """An interrupted run (the export failed, say) left a month detached: the next one
    exports and drops it."""
    await maintain_partitions(pg)  # that earlier run made the months ahead
    old = add_months(THIS_MONTH, -30)
    name = partition_name(old)
    await pg.execute(
        "SELECT create_analytics_events_partitions($1::timestamp AT TIME ZONE 'UTC', 1)", old
    )
    await pg.execute(
        "INSERT INTO analytics_events (event_type, created_at)"
        " VALUES ('visit', $1::timestamp AT TIME ZONE 'UTC')",
        old,
    )
    await pg.execute(f"ALTER TABLE analytics_events DETACH PARTITION {name}")
    done = await maintain_partitions(pg, retention_months=24, export_dir=tmp_path)
    assert done == [f"exported 1 events of {name} to {tmp_path / name}.csv.gz", f"dropped {name}"]


async def test_two_copies_at_once_do_the_work_once(own_url: str, pg: asyncpg.Connection) -> None:
    await pg.execute("SELECT create_analytics_events_partitions('2031-01-01T00:00:00Z', 1)")
    await pg.execute(
        "INSERT INTO analytics_events (event_type, created_at) VALUES"
        " ('x', '2031-03-05T00:00:00Z'), ('x', '2031-04-05T00:00:00Z')"
    )
    connections = [await asyncpg.connect(own_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(maintain_partitions(c) for c in connections))
    finally:
        for c in connections:
            await c.close()
    lines = [line for done in results for line in done]
    assert sorted(line for line in lines if line.startswith("moved")) == [
        "moved 1 events from analytics_events_default into analytics_events_y2031m03",
        "moved 1 events from analytics_events_default into analytics_events_y2031m04",
    ]
    assert len(lines) == len(set(lines))


async def test_upkeep_while_the_shop_records_events(own_url: str, pg: asyncpg.Connection) -> None:
    """Inserts from four connections keep landing, whole, while upkeep moves strays and
    creates partitions; the daily counts stay those of the rows."""
    await pg.execute(
        "INSERT INTO analytics_events (event_type, created_at)"
        " SELECT 'stray', '2033-05-01T00:00:00Z'::timestamptz + make_interval(hours => i)"
        " FROM generate_series(1, 500) AS i"
    )
    writers = [await asyncpg.connect(own_url) for _ in range(4)]
    upkeep = await asyncpg.connect(own_url)
    stop = asyncio.Event()
    written = 0

    async def write(conn: asyncpg.Connection) -> None:
        nonlocal written
        while not stop.is_set():
            await conn.execute(
                "INSERT INTO analytics_events (event_type, payload)"
                " SELECT 'live', jsonb_build_object('i', i) FROM generate_series(1, 200) AS i"
            )
            written += 200

    async def maintain() -> list[str]:
        await asyncio.sleep(0.2)
        try:
            return await maintain_partitions(upkeep, months_ahead=6)
        finally:
            await asyncio.sleep(0.2)
            stop.set()

    try:
        *_, done = await asyncio.gather(*(write(c) for c in writers), maintain())
        assert done is not None  # maintain()'s list; only the writers return None
    finally:
        for conn in (*writers, upkeep):
            await conn.close()
    assert "moved 500 events from analytics_events_default into analytics_events_y2033m05" in done
    assert await pg.fetchval("SELECT count(*) FROM analytics_events WHERE event_type = 'live'") == (
        written
    )
    assert await pg.fetchval("SELECT count(*) FROM analytics_events_default") == 0
    assert await rollup_matches(pg)


async def test_serve_start_prepares_partitions_but_never_drops(
    own_url: str, pg: asyncpg.Connection
) -> None:
    old = date(2018, 1, 1)
    await maintain_partitions(pg)  # the months ahead, as a running shop has them
    await pg.execute("SELECT create_analytics_events_partitions('2018-01-01T00:00:00Z', 1)")
    await pg.execute(f"DROP TABLE {partition_name(add_months(THIS_MONTH, 3))}")
    done = await prepare_at_start(own_url)
    assert done == [f"created partition {partition_name(add_months(THIS_MONTH, 3))}"]
    assert partition_name(old) in await partitions(pg)


def test_comptoir_serve_creates_the_partitions_before_serving(
    server_url: str, tmp_path: Path
) -> None:
    """`comptoir serve` on a database whose DEFAULT partition holds a stray event: by the
    time it answers, the months ahead exist and the stray is in its month."""
    with migrated_database(server_url, "comptoir_serve_partitions") as url:

        async def setup() -> None:
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(
                    "INSERT INTO analytics_events (event_type, created_at)"
                    " VALUES ('stray', '2017-03-03T00:00:00Z')"
                )
            finally:
                await conn.close()

        asyncio.run(setup())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "comptoir", "serve", "--port", str(port)],
            env={**os.environ, "DATABASE_URL": url, "COMPTOIR_DATA_DIR": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None  # stdout=PIPE
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "serve did not answer"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        assert "created partition analytics_events_y2017m03" in output
        assert f"created partition {partition_name(add_months(THIS_MONTH, 3))}" in output

        async def placed() -> tuple[set[str], str]:
            conn = await asyncpg.connect(url)
            try:
                where = await conn.fetchval("SELECT tableoid::regclass::text FROM analytics_events")
                return await partitions(conn), where
            finally:
                await conn.close()

        names, where = asyncio.run(placed())
        assert {partition_name(add_months(THIS_MONTH, i)) for i in range(4)} <= names
        assert where == "analytics_events_y2017m03"
