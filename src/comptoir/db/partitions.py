"""Upkeep of analytics_events' monthly partitions (UTC months, named analytics_events_yYYYYmMM).

`maintain_partitions` creates the partitions ahead, moves the events that landed in the
DEFAULT partition (for want of theirs) into their month's, and detaches the months past the
retention, exporting each to a file before dropping it. Every step is its own short
transaction with a lock timeout, so that the shop keeps serving; a session advisory lock
keeps two copies (several workers starting, a cron job) from running at once.
"""

import asyncio
import gzip
import logging
import os
from datetime import date
from pathlib import Path

import asyncpg

from comptoir.db import direct

log = logging.getLogger("comptoir.db.partitions")

# "comptoir" in ASCII: the advisory lock of partition upkeep.
ADVISORY_LOCK = 0x636F6D70746F6972
LOCK_TIMEOUT = "5s"
PREFIX = "analytics_events_y"


def partition_name(month: date) -> str:
    return f"{PREFIX}{month:%Y}m{month:%m}"


def month_of(name: str) -> date | None:
    """The month a partition name stands for; None for any other table."""
    rest = name.removeprefix(PREFIX)
    if rest == name or len(rest) != 7 or rest[4] != "m":
        return None
    try:
        return date(int(rest[:4]), int(rest[5:]), 1)
    except ValueError:
        return None


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


async def maintain_partitions(
    conn: asyncpg.Connection,
    *,
    months_ahead: int = 3,
    retention_months: int | None = None,
    export_dir: Path | None = None,
) -> list[str]:
    """Create the partitions of this month and the next `months_ahead`, drain the DEFAULT
    partition, drop the months older than `retention_months` (before this month); what was
    done, one line per action (empty: nothing to do)."""
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK)
    except asyncpg.LockNotAvailableError:  # the caller's lock_timeout ran out
        return ["partitions: another upkeep is running; nothing done"]
    try:
        this_month: date = await conn.fetchval(
            "SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date"
        )
        done: list[str] = []
        wanted = {add_months(this_month, i) for i in range(months_ahead + 1)}
        for month in sorted(wanted | set(await _months_in_default(conn))):
            done += await _ensure(conn, month)
        if retention_months is not None:
            oldest_kept = add_months(this_month, -retention_months)
            done += await _retire(conn, oldest_kept, export_dir)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK)


async def _months_in_default(conn: asyncpg.Connection) -> list[date]:
    rows = await conn.fetch(
        "SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month"
        " FROM analytics_events_default"
    )
    return [row["month"] for row in rows]


async def _ensure(conn: asyncpg.Connection, month: date) -> list[str]:
    name = partition_name(month)
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            moved = await conn.fetchval(
                "SELECT ensure_analytics_events_partition($1::timestamp AT TIME ZONE 'UTC')",
                month,
            )
    except asyncpg.LockNotAvailableError:
        return [f"{name}: analytics_events busy for {LOCK_TIMEOUT}, not created; run again"]
    if moved is None:
        return []
    lines = [f"created partition {name}"]
    if moved:
        lines.append(f"moved {moved} events from analytics_events_default into {name}")
    return lines


async def _retire(
    conn: asyncpg.Connection, oldest_kept: date, export_dir: Path | None
) -> list[str]:
    """Detach, export, drop every monthly partition before `oldest_kept`; tables left
    detached by an interrupted run (a failed export, say) are finished the same way."""
    rows = await conn.fetch(
        "SELECT c.relname, i.inhparent IS NOT NULL AS attached"
        " FROM pg_class AS c"
        " LEFT JOIN pg_inherits AS i"
        "   ON i.inhrelid = c.oid AND i.inhparent = 'analytics_events'::regclass"
        " WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
        "   AND c.relname LIKE 'analytics\\_events\\_y%'"
        " ORDER BY c.relname"
    )
    done: list[str] = []
    for row in rows:
        month = month_of(row["relname"])
        if month is None or month >= oldest_kept:
            continue
        if row["attached"]:
            if not await _detach(conn, row["relname"], month):
                done.append(f"{row['relname']}: analytics_events busy, not detached; run again")
                continue
            done.append(f"detached {row['relname']} (older than {oldest_kept:%Y-%m})")
        if export_dir is not None:
            path, count = await _export(conn, row["relname"], export_dir)
            done.append(f"exported {count} events of {row['relname']} to {path}")
        await conn.execute(f'DROP TABLE "{row["relname"]}"')
        done.append(f"dropped {row['relname']}")
    return done


async def _detach(conn: asyncpg.Connection, name: str, month: date) -> bool:
    """Detach the partition and forget its days in the rollup, together: the summary stays
    what a GROUP BY over the events that remain would say."""
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            await conn.execute(f'ALTER TABLE analytics_events DETACH PARTITION "{name}"')
            await conn.execute(
                "DELETE FROM analytics_events_daily WHERE day >= $1 AND day < $2",
                month,
                add_months(month, 1),
            )
    except asyncpg.LockNotAvailableError:
        return False
    return True


async def _export(conn: asyncpg.Connection, name: str, export_dir: Path) -> tuple[Path, int]:
    """The table as gzipped CSV with a header, written under a temporary name and renamed
    once complete and synced: a file with the final name is always whole."""
    path = export_dir / f"{name}.csv.gz"
    partial = path.with_name(path.name + ".partial")
    await asyncio.to_thread(export_dir.mkdir, parents=True, exist_ok=True)
    with gzip.open(partial, "wb") as out:

        async def write(chunk: bytes) -> None:
            out.write(chunk)

        status = await conn.copy_from_table(name, output=write, format="csv", header=True)
    await asyncio.to_thread(_commit_file, partial, path)
    return path, int(status.split()[-1])


def _commit_file(partial: Path, path: Path) -> None:
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.replace(path)


async def prepare_at_start(url: str, *, months_ahead: int = 3) -> list[str]:
    """What `comptoir serve` runs before its workers start: partitions ahead, DEFAULT drained
    (never retention: dropping data is for `comptoir db maintain`, run on purpose)."""
    conn = await direct.connect_owner(url, "partition upkeep at start")
    try:
        return await maintain_partitions(conn, months_ahead=months_ahead)
    except (asyncpg.UndefinedFunctionError, asyncpg.UndefinedTableError):
        # `serve --no-migrate` on a database behind the code: the events still land (in
        # DEFAULT at worst); upkeep waits for the migrations.
        return ["analytics partitions not looked after: the schema is not at the latest revision"]
    finally:
        await conn.close()
