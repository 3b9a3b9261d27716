"""Migrations: the round trip, the schema file, the partitions the first revision creates."""

import asyncio
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from alembic.script import ScriptDirectory

from comptoir.db import embedded, migrate
from comptoir.db.schema import pg_dump_schema, schema_sql, scratch_database

SCHEMA_FILE = Path(__file__).parents[2] / "db" / "postgres_schema.sql"

OBJECTS_IN_PUBLIC = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname NOT LIKE 'alembic_version%')
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype = 'e')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public')
"""


async def count_objects(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        count: int = await conn.fetchval(OBJECTS_IN_PUBLIC)
        return count
    finally:
        await conn.close()


async def test_upgrade_downgrade_upgrade_gives_the_same_schema(server_url: str) -> None:
    async with scratch_database(server_url, prefix="comptoir_roundtrip") as url:
        await migrate.run_in_thread(migrate.upgrade, url)
        first = pg_dump_schema(url)
        assert await count_objects(url) > 0

        await migrate.run_in_thread(lambda u: migrate.downgrade(u, "base"), url)
        assert await count_objects(url) == 0
        assert await migrate.current_revision(url) is None

        await migrate.run_in_thread(migrate.upgrade, url)
        assert pg_dump_schema(url) == first
        assert await migrate.current_revision(url) == migrate.head_revision()


async def test_upgrade_at_head_changes_nothing(database_url: str) -> None:
    before = pg_dump_schema(database_url)
    await migrate.run_in_thread(migrate.upgrade, database_url)
    assert pg_dump_schema(database_url) == before


async def test_the_quick_look_at_the_head_agrees_with_alembic(server_url: str) -> None:
    """`upgrade` skips Alembic when `at_head` says there is nothing to do: the head it reads
    from the revision files must be Alembic's, and a database below it is not at the head."""
    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql://unused"))
    assert migrate.head_revision() == script.get_current_head()
    async with scratch_database(server_url, prefix="comptoir_at_head") as url:
        assert not await migrate.at_head(url)
        await migrate.run_in_thread(lambda u: migrate.upgrade(u, "0015"), url)
        assert not await migrate.at_head(url)
        await migrate.run_in_thread(migrate.upgrade, url)
        assert await migrate.at_head(url)


async def test_schema_file_matches_the_migrations(server_url: str) -> None:
    """Fails when a migration changes the schema and db/postgres_schema.sql was not
    regenerated with `comptoir db schema > db/postgres_schema.sql`."""
    assert await schema_sql(server_url) == SCHEMA_FILE.read_text()


async def test_schema_file_builds_the_same_database(server_url: str) -> None:
    """The file is a deliverable on its own: psql can build the schema from it."""
    async with scratch_database(server_url, prefix="comptoir_from_file") as url:
        await asyncio.to_thread(
            subprocess.run,
            [
                str(embedded.bin_path() / "psql"),
                "--no-psqlrc",
                "-v",
                "ON_ERROR_STOP=1",
                "--quiet",
                "--file",
                str(SCHEMA_FILE),
                url,
            ],
            check=True,
            capture_output=True,
        )
        assert pg_dump_schema(url) == SCHEMA_FILE.read_text()


async def test_current_and_next_months_have_partitions(server_url: str) -> None:
    # A database fresh from the migrations: on the run's database, a `comptoir serve` of
    # tests/ops has made the partitions of the months after (it prepares three ahead) when
    # its file ran first on this worker.
    async with scratch_database(server_url, prefix="comptoir_partitions") as url:
        await migrate.run_in_thread(migrate.upgrade, url)
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'analytics_events'::regclass ORDER BY 1"
            )
        finally:
            await conn.close()
    now = datetime.now(UTC)
    following = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    assert [r["relname"] for r in rows] == sorted(
        [
            "analytics_events_default",
            f"analytics_events_y{now:%Y}m{now:%m}",
            f"analytics_events_y{following:%Y}m{following:%m}",
        ]
    )


async def test_partition_function_creates_only_missing_months(conn: asyncpg.Connection) -> None:
    created = await conn.fetch(
        "SELECT create_analytics_events_partitions('2031-11-15T12:00:00Z', 3)"
    )
    assert [r[0] for r in created] == [
        "analytics_events_y2031m11",
        "analytics_events_y2031m12",
        "analytics_events_y2032m01",
    ]
    again = await conn.fetch("SELECT create_analytics_events_partitions('2031-12-01', 3)")
    assert [r[0] for r in again] == ["analytics_events_y2032m02"]

    # Month bounds are UTC midnights.
    await conn.execute(
        "INSERT INTO analytics_events (event_type, created_at) VALUES"
        " ('last', '2031-11-30T23:59:59.999Z'), ('first', '2031-12-01T01:00:00+01:00')"
    )
    rows = await conn.fetch(
        "SELECT event_type, tableoid::regclass::text AS part FROM analytics_events"
        " WHERE created_at >= '2031-11-01'"
    )
    assert {r["event_type"]: r["part"] for r in rows} == {
        "last": "analytics_events_y2031m11",
        "first": "analytics_events_y2031m12",
    }
