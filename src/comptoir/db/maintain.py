"""`comptoir db maintain`: the upkeep autovacuum does not do, safe to run from cron while the
shop serves.

Every step is short and takes only locks that let reads and writes go on: expired rows are
deleted in small batches (one short transaction each), VACUUM takes a SHARE UPDATE
EXCLUSIVE lock, REINDEX CONCURRENTLY builds the new index beside the old one. VACUUM and
REINDEX CONCURRENTLY cannot run inside a transaction block, so the connection runs in
autocommit (asyncpg's default outside `conn.transaction()`). A lock timeout makes a step
give up (and say so) rather than queue behind a long transaction, and stall the shop's
statements queued behind it. An advisory lock keeps two runs from overlapping.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from comptoir.db import direct, partitions, stats

# "maintain" in ASCII: the advisory lock of `db maintain`.
ADVISORY_LOCK = 0x6D61696E7461696E
LOCK_TIMEOUT = "5s"
PURGE_BATCH = 5_000
# Expired rows a cron run removes: idempotency keys (kept 24 h for retries), the
# revocation list of tokens that have expired anyway, expired refresh tokens and mailed links
# (refused once expired, whether or not the row is there).
EXPIRING = ("idempotency_keys", "revoked_tokens", "refresh_tokens", "account_links")

# Tables whose dead tuples call for a VACUUM: at least this many, and this share of the rows
# (autovacuum's own trigger is 50 + 20%; maintain acts a little earlier, off-peak).
VACUUM_DEAD_TUPLES = """
SELECT format('%I.%I', schemaname, relname) AS name, n_dead_tup AS dead
FROM pg_stat_user_tables
WHERE n_dead_tup >= $1 AND n_dead_tup >= $2 * (n_live_tup + n_dead_tup)
ORDER BY n_dead_tup DESC
"""

# Leftovers of an interrupted REINDEX CONCURRENTLY: invalid copies named <index>_ccnew.
FAILED_REBUILDS = """
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND c.relname ~ '_ccnew[0-9]*$'
"""


@dataclass(frozen=True)
class Chore:
    """A domain's upkeep: `run(conn, dry_run)` does it (or says what it would do) on the
    autocommit connection, each batch in a transaction of its own; what it did, by line."""

    name: str
    run: Callable[[asyncpg.Connection, bool], Awaitable[list[str]]]


@dataclass(frozen=True)
class Thresholds:
    min_dead_tuples: int = 1_000
    dead_ratio: float = 0.10
    min_index_bytes: int = 1 << 20
    bloat_pct: float = 30.0


async def maintain(
    conn: asyncpg.Connection,
    *,
    thresholds: Thresholds = Thresholds(),
    retention_months: int | None = None,
    export_dir: Path | None = None,
    chores: Sequence[Chore] = (),
    dry_run: bool = False,
    step: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Run every step on an autocommit connection; what was done, one line per action.
    `chores` are the domains' own upkeep, handed in by the caller (db/ knows no domain).
    `step` hears which step is running, for a progress display."""
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK):
        return ["another `comptoir db maintain` is running on this database: nothing done"]
    try:
        await conn.execute(
            f"SET statement_timeout = 0; SET lock_timeout = '{LOCK_TIMEOUT}';"
            " SET application_name = 'comptoir db maintain'"
        )
        step("indexes left invalid by a failed rebuild")
        done = await _drop_failed_rebuilds(conn, dry_run)
        step("expired idempotency keys, revocations, refresh tokens and links")
        for table in EXPIRING:
            done += await _purge_expired(conn, table, dry_run)
        for chore in chores:
            step(chore.name)
            done += await chore.run(conn, dry_run)
        if dry_run:
            done.append("partitions: not looked at in a dry run")
        else:
            step("analytics partitions")
            done += await _partitions(conn, retention_months, export_dir)
        step("VACUUM (ANALYZE) where dead tuples call for it")
        done += await _vacuum(conn, thresholds, dry_run)
        step("REINDEX CONCURRENTLY of bloated indexes")
        done += await _reindex(conn, thresholds, dry_run)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK)


async def _drop_failed_rebuilds(conn: asyncpg.Connection, dry_run: bool) -> list[str]:
    done = []
    for row in await conn.fetch(FAILED_REBUILDS):
        if not dry_run:
            await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {row['name']}")
        done.append(f"dropped {row['name']}, left invalid by an interrupted REINDEX")
    return done


async def _purge_expired(conn: asyncpg.Connection, table: str, dry_run: bool) -> list[str]:
    if dry_run:
        count = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE expires_at < now()")
        return [f"would purge {count} expired rows of {table}"] if count else []
    purged = 0
    while True:
        # Small batches, each its own transaction: no long lock, no huge WAL burst.
        status = await conn.execute(
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM {table} WHERE expires_at < now() LIMIT {PURGE_BATCH}))"
        )
        deleted = int(status.split()[-1])
        purged += deleted
        if deleted < PURGE_BATCH:
            break
    return [f"purged {purged} expired rows of {table}"] if purged else []


async def _partitions(
    conn: asyncpg.Connection, retention_months: int | None, export_dir: Path | None
) -> list[str]:
    return await partitions.maintain_partitions(
        conn, months_ahead=3, retention_months=retention_months, export_dir=export_dir
    )


async def _vacuum(conn: asyncpg.Connection, t: Thresholds, dry_run: bool) -> list[str]:
    done = []
    for row in await conn.fetch(VACUUM_DEAD_TUPLES, t.min_dead_tuples, t.dead_ratio):
        if dry_run:
            done.append(f"would VACUUM (ANALYZE) {row['name']} ({row['dead']} dead tuples)")
            continue
        try:
            await conn.execute(f"VACUUM (ANALYZE) {row['name']}")
        except asyncpg.LockNotAvailableError:
            done.append(f"{row['name']}: busy for {LOCK_TIMEOUT}, not vacuumed; run again")
            continue
        done.append(f"VACUUM (ANALYZE) {row['name']}: {row['dead']} dead tuples")
    return done


async def _reindex(conn: asyncpg.Connection, t: Thresholds, dry_run: bool) -> list[str]:
    done = []
    bloated = await stats.bloated_indexes(conn, min_bytes=t.min_index_bytes, min_pct=t.bloat_pct)
    for index in bloated:
        name = '"{}"."{}"'.format(
            index["schema"].replace('"', '""'), index["index"].replace('"', '""')
        )
        what = f"{name} ({index['size']}, about {index['bloat_pct']}% bloat)"
        if dry_run:
            done.append(f"would REINDEX INDEX CONCURRENTLY {what}")
            continue
        try:
            await conn.execute(f"REINDEX INDEX CONCURRENTLY {name}")
        except asyncpg.LockNotAvailableError:
            done.append(f"{name}: busy for {LOCK_TIMEOUT}, not rebuilt; run again")
            continue
        after = await conn.fetchval("SELECT pg_size_pretty(pg_relation_size($1::regclass))", name)
        done.append(f"REINDEX INDEX CONCURRENTLY {what}: now {after}")
    return done


async def run(
    url: str,
    *,
    retention_months: int | None,
    export_dir: Path | None = None,
    chores: Sequence[Chore] = (),
    dry_run: bool = False,
    thresholds: Thresholds = Thresholds(),
    step: Callable[[str], None] = lambda _: None,
) -> list[str]:
    conn = await direct.connect_owner(url, "`comptoir db maintain`")
    try:
        return await maintain(
            conn,
            thresholds=thresholds,
            retention_months=retention_months,
            export_dir=export_dir,
            chores=chores,
            dry_run=dry_run,
            step=step,
        )
    finally:
        await conn.close()
