"""`comptoir db stats` and `comptoir db maintain`, run as an operator runs them, on a scratch
database of the suite's server (the embedded one, or DATABASE_URL's: both are exercised)."""

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from typer.testing import CliRunner

from comptoir.cli import app
from comptoir.db import maintain
from tests.conftest import migrated_database


@pytest.fixture
def scratch(server_url: str) -> Iterator[str]:
    # The commands run their own event loops, as they do in a shell: these tests are sync.
    with migrated_database(server_url, "comptoir_ops") as url:
        yield url


def cli(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["--database-url", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def sql(url: str, *statements: str) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return [await conn.fetchval(s) for s in statements]
        finally:
            await conn.close()

    return asyncio.run(run())


def flushed_stats(url: str, *statements: str) -> None:
    """Run statements, then make their counts (dead tuples) visible to other sessions now."""
    sql(url, *statements, "SELECT pg_stat_force_next_flush()", "SELECT 1")


class Background:
    """An event loop in a thread, for connections that must stay busy while the CLI runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)

    def start(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@contextmanager
def lock_wait(url: str) -> Iterator[tuple[int, int]]:
    """One session holds a lock on products, another waits for it: (blocker, waiter) pids."""
    bg = Background()
    holder: asyncpg.Connection = bg.run(asyncpg.connect(url))
    waiter: asyncpg.Connection = bg.run(asyncpg.connect(url))
    try:
        bg.run(holder.execute("BEGIN; LOCK TABLE products IN ACCESS EXCLUSIVE MODE"))
        waiting = bg.start(waiter.fetchval("SELECT count(*) FROM products"))
        for _ in range(200):
            if sql(url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0]:
                break
            threading.Event().wait(0.02)
        yield holder.get_server_pid(), waiter.get_server_pid()
        bg.run(holder.execute("ROLLBACK"))
        waiting.result(timeout=10)
    finally:
        bg.run(holder.close())
        bg.run(waiter.close())
        bg.close()


def test_db_stats_reports_every_section(scratch: str) -> None:
    preloaded = "pg_stat_statements" in sql(scratch, "SHOW shared_preload_libraries")[0]
    if preloaded:
        sql(scratch, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # This database's entries only: the migration's statements would otherwise compete
        # with the test's for the report's top rows, and win on a slow run.
        sql(
            scratch,
            "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database"
            " WHERE datname = current_database()), 0)",
        )
    flushed_stats(
        scratch,
        "INSERT INTO products (name, price, stock) SELECT 'Lampe ' || i, 10, 5"
        " FROM generate_series(1, 500) AS i",
        "DELETE FROM products WHERE stock = 5",
        "ANALYZE products",
    )
    with lock_wait(scratch) as (blocker, waiter):
        report = json.loads(cli(scratch, "db", "stats", "--json"))
    statements = report["Statements by total time"]
    if preloaded:
        assert statements["hint"] is None
        assert any("products" in row["query"] for row in statements["rows"])
        assert report["Statements by mean time"]["rows"]
    else:  # the external server without the extension: a hint, not a failure
        assert "shared_preload_libraries" in statements["hint"]
        assert statements["rows"] == []
    waits = report["Lock waits now (who waits for whom)"]["rows"]
    assert {"waiting_pid": waiter, "blocking_pid": blocker}.items() <= waits[0].items()
    dead = {row["table"]: row for row in report["Dead tuples and last vacuum"]["rows"]}
    assert dead["products"]["dead"] >= 500
    assert {"table", "index", "size", "scans"} <= set(
        report["Unused indexes (no scan since statistics reset)"]["rows"][0]
    )
    assert "bloat_pct" in report["Index bloat (estimate, b-tree)"]["rows"][0]
    partitions = report["Partitions"]["rows"]
    assert any(row["parent"] == "analytics_events" for row in partitions)
    # The same report for a terminal.
    text = cli(scratch, "db", "stats")
    assert "Lock waits now" in text and "Dead tuples" in text and "Partitions" in text


def test_db_stats_says_how_to_enable_pg_stat_statements(scratch: str) -> None:
    sql(scratch, "DROP EXTENSION IF EXISTS pg_stat_statements")
    output = cli(scratch, "db", "stats")
    assert "CREATE EXTENSION pg_stat_statements" in " ".join(output.split())


SETUP = [
    "CREATE TABLE bloat_probe (id int PRIMARY KEY, label text NOT NULL)",
    "CREATE INDEX bloat_probe_label_idx ON bloat_probe (label)",
    "INSERT INTO bloat_probe SELECT i, md5(i::text) FROM generate_series(1, 60000) AS i",
    "DELETE FROM bloat_probe WHERE id % 10 <> 0",
    # Expired and live idempotency keys and revocations.
    "INSERT INTO users (email) VALUES ('keys@example.com')",
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, expires_at)"
    " SELECT id, 'old-' || i, 'f', now() - interval '1 hour'"
    " FROM users, generate_series(1, 30) AS i",
    "INSERT INTO idempotency_keys (user_id, key, fingerprint) SELECT id, 'live', 'f' FROM users",
    "INSERT INTO revoked_tokens (jti, user_id, expires_at)"
    " SELECT gen_random_uuid(), id, now() - interval '1 minute' FROM users",
    "INSERT INTO revoked_tokens (jti, user_id, expires_at)"
    " SELECT gen_random_uuid(), id, now() + interval '1 hour' FROM users",
    # An expired and a live refresh token of one session, and an expired mailed link.
    "INSERT INTO sessions (id, user_id) SELECT '00000000-0000-0000-0000-000000000001', id"
    " FROM users",
    "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
    " SELECT sha256(i::text::bytea), '00000000-0000-0000-0000-000000000001',"
    " now() + (i || ' hour')::interval FROM generate_series(-1, 1, 2) AS i",
    "INSERT INTO account_links (token_hash, user_id, purpose, expires_at)"
    " SELECT sha256('link'::bytea), id, 'reset', now() - interval '1 minute' FROM users",
]
SIZES = "SELECT pg_relation_size('bloat_probe_label_idx')"


def test_db_maintain_vacuums_reindexes_purges_and_makes_partitions(scratch: str) -> None:
    flushed_stats(scratch, *SETUP)
    before = sql(scratch, SIZES)[0]

    dry = cli(scratch, "db", "maintain", "--dry-run")
    assert "would purge 30 expired rows of idempotency_keys" in dry
    assert "would VACUUM (ANALYZE) public.bloat_probe" in dry
    assert sql(scratch, "SELECT count(*) FROM idempotency_keys")[0] == 31  # nothing done

    output = cli(scratch, "db", "maintain")
    assert "purged 30 expired rows of idempotency_keys" in output
    assert "purged 1 expired rows of revoked_tokens" in output
    assert "purged 1 expired rows of refresh_tokens" in output
    assert "purged 1 expired rows of account_links" in output
    assert "VACUUM (ANALYZE) public.bloat_probe: 54000 dead tuples" in output
    assert 'REINDEX INDEX CONCURRENTLY "public"."bloat_probe_label_idx"' in output
    after, keys, revoked, ahead = sql(
        scratch,
        SIZES,
        "SELECT array_agg(key) FROM idempotency_keys",
        "SELECT count(*) FROM revoked_tokens",
        "SELECT to_regclass('analytics_events_y' || to_char(now() + interval '3 months',"
        " 'YYYY\"m\"MM')) IS NOT NULL",
    )
    assert after < before / 3, (before, after)
    assert keys == ["live"] and revoked == 1
    assert ahead, "the partition three months ahead was not created"
    # A second run has nothing left to purge, vacuum or rebuild.
    again = cli(scratch, "db", "maintain")
    assert "purged" not in again and "VACUUM" not in again and "REINDEX" not in again


def test_db_maintain_runs_once_at_a_time_and_cleans_failed_rebuilds(scratch: str) -> None:
    async def scenario() -> list[str]:
        conn = await asyncpg.connect(scratch)
        other = await asyncpg.connect(scratch)
        try:
            await other.execute("SELECT pg_advisory_lock($1)", maintain.ADVISORY_LOCK)
            busy = await maintain.maintain(conn)
            await other.execute("SELECT pg_advisory_unlock($1)", maintain.ADVISORY_LOCK)
            # What an interrupted REINDEX CONCURRENTLY leaves: an invalid copy.
            await conn.execute("CREATE INDEX users_email_idx_ccnew ON users (email)")
            await conn.execute(
                "UPDATE pg_index SET indisvalid = false"
                " WHERE indexrelid = 'users_email_idx_ccnew'::regclass"
            )
            return busy + await maintain.maintain(conn)
        finally:
            await conn.close()
            await other.close()

    lines = asyncio.run(scenario())
    assert lines[0].startswith("another `comptoir db maintain` is running")
    assert any("dropped public.users_email_idx_ccnew" in line for line in lines)
    assert sql(scratch, "SELECT to_regclass('users_email_idx_ccnew')") == [None]
