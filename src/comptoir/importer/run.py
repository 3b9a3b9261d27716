"""`comptoir import-json`: one legacy store into PostgreSQL, in one transaction.

Records are parsed as a stream, checked one by one in Python (records.py), and copied
into temporary staging tables; set-based SQL (staging.py) then decides what depends on
other records and writes the shop's tables. Nothing is committed before the very end, so
a malformed file, a crash, `kill -9` or Ctrl-C leaves the database as it was, and
`--dry-run` is the same run ending in a rollback.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import asyncpg
from argon2 import PasswordHasher

from comptoir.importer import records, staging
from comptoir.importer.fields import Unusable
from comptoir.importer.report import Outcome, Report
from comptoir.importer.sources import Record, Source, open_store

BATCH = 5_000  # carts and orders a batch at a time, with their lines: bounded memory
CONVERTERS: dict[str, Callable[[Record], records.Staged]] = {
    "users": lambda r: records.user(r.ordinal, r.value),
    "products": lambda r: records.product(r.ordinal, r.value),
    "carts": lambda r: records.cart(r.ordinal, r.value),
    "orders": lambda r: records.order(r.ordinal, r.value),
    "leads": lambda r: records.lead(r.ordinal, r.value),
    "analytics": lambda r: records.event(r.ordinal, r.value, r.raw),
}
LINES = {"carts": "cart_lines", "orders": "order_lines"}

Progress = Callable[[str, int, int], None]  # collection, records read so far, records total


class Rejects:
    """The rejects file: one JSON line per rejected record, whole, with its reason. It is
    opened at the first reject, so a clean import leaves no file behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[str] | None = None

    def write(self, collection: str, record: Any, reason: str) -> None:
        if self._stream is None:
            self._stream = self.path.open("w", encoding="utf-8")
        line = {"collection": collection, "record": records.masked(record), "reason": reason}
        self._stream.write(json.dumps(line, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def discard(self) -> None:
        """An import that failed rejected nothing: its partial rejects file goes."""
        self.close()
        if self._stream is not None:
            self.path.unlink(missing_ok=True)

    @property
    def written(self) -> bool:
        return self._stream is not None


async def import_store(
    url: str,
    path: Path,
    *,
    dry_run: bool = False,
    rejects_path: Path,
    progress: Progress | None = None,
) -> Report:
    started = time.perf_counter()
    sources = open_store(path)
    report = Report(str(path), dry_run, {name: Outcome() for name in CONVERTERS})
    rejects = Rejects(rejects_path)
    conn = await asyncpg.connect(
        url, server_settings={"timezone": "UTC", "application_name": "comptoir import-json"}
    )
    try:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute("SET LOCAL work_mem = '256MB'; SET LOCAL statement_timeout = 0")
            await conn.execute(staging.TABLES)
            # Each argon2id hash holds 64 MiB while it runs: one at a time keeps the import's
            # memory bounded whatever the number of plain-text passwords. The hashing runs
            # beside the parse (argon2 releases the GIL).
            with ThreadPoolExecutor(1, thread_name_prefix="argon2") as hashing:
                passwords: dict[int, Future[str]] = {}
                months: set[tuple[int, int]] = set()  # of the events, in UTC
                for source in sources:
                    await _stage(
                        conn, source, report, rejects, hashing, passwords, months, progress
                    )
                await _store_hashes(conn, passwords)
            await _settle(conn, report, months)
            async with conn.transaction():  # a savepoint: the cursor needs a transaction
                async for row in conn.cursor(staging.REJECTS):
                    rejects.write(row["collection"], json.loads(row["raw"]), row["reason"])
        except BaseException:
            rejects.discard()
            with suppress(Exception):  # a broken connection rolls back as it closes
                await transaction.rollback()
            raise
        if dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
            await _analyze(conn)
    finally:
        await conn.close()
    rejects.close()
    report.rejects_file = str(rejects_path) if rejects.written else None
    report.seconds = time.perf_counter() - started
    return report


async def _analyze(conn: asyncpg.Connection) -> None:
    """Fresh statistics, so the shop's first queries on the new rows plan well. Event
    partitions are left to autovacuum, which analyzes new tables soon enough: sampling
    dozens of them here would add seconds to every import."""
    try:
        await conn.execute("ANALYZE users, products, carts, cart_items, orders, order_items, leads")
    except asyncio.CancelledError:
        # Ctrl-C after the commit: the import is done, and its report is still owed.
        pass


async def _stage(
    conn: asyncpg.Connection,
    source: Source,
    report: Report,
    rejects: Rejects,
    hashing: ThreadPoolExecutor,
    passwords: dict[int, Future[str]],
    months: set[tuple[int, int]],
    progress: Progress | None,
) -> None:
    name = source.collection
    outcome = report.collections[name]
    convert = CONVERTERS[name]
    hasher = PasswordHasher()

    def staged() -> Iterator[records.Staged]:
        for record in source.records():
            outcome.read += 1
            if progress and outcome.read % 10_000 == 0:
                progress(name, outcome.read, 0)
            try:
                result = convert(record)
            except Unusable as reason:
                outcome.rejected += 1
                outcome.reasons[str(reason)] += 1
                rejects.write(name, record.value, str(reason))
                continue
            for note in result.notes:
                outcome.notes[note] += 1
            if result.password is not None:
                passwords[record.ordinal] = hashing.submit(hasher.hash, result.password)
            if name == "analytics":
                months.add(_month(result.row[4]))
            yield result

    stream = staged()
    if name in LINES:
        # Two tables from one stream: copied in batches, each batch's rows then its lines.
        while batch := [result for _, result in zip(range(BATCH), stream, strict=False)]:
            await _copy(conn, name, [result.row for result in batch])
            await _copy(conn, LINES[name], [line for result in batch for line in result.lines])
    else:
        # One COPY for the whole collection, fed as it is parsed: PostgreSQL takes rows on
        # its core while this process parses the next ones on the other.
        async def rows() -> AsyncIterator[tuple[Any, ...]]:
            for result in stream:
                yield result.row

        await _copy(conn, name, rows())
    if progress:
        progress(name, outcome.read, outcome.read)


async def _copy(conn: asyncpg.Connection, table: str, rows: Any) -> None:
    await conn.copy_records_to_table(
        f"import_{table}", records=rows, columns=staging.COLUMNS[table]
    )


async def _store_hashes(conn: asyncpg.Connection, passwords: dict[int, Future[str]]) -> None:
    if passwords:
        hashes = [(ordinal, future.result()) for ordinal, future in passwords.items()]
        await conn.copy_records_to_table("import_hashes", records=hashes)
        await conn.execute(staging.HASHES)


def _month(moment: datetime) -> tuple[int, int]:
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.year, moment.month


async def _settle(conn: asyncpg.Connection, report: Report, months: set[tuple[int, int]]) -> None:
    """Everything that depends on other records, in the order references need."""
    outcomes = report.collections
    for name in ("users", "products", "orders", "leads", "analytics"):
        await conn.execute(staging.DUPLICATE_IDS.format(collection=name))

    await conn.execute(staging.USER_MAP)
    users = await conn.fetchrow(staging.USER_OUTCOMES)
    assert users is not None  # an aggregate without GROUP BY: always one row
    outcomes["users"].merged = users["merged"]
    await _write(conn, outcomes["users"], users["imported"], staging.INSERT_USERS)

    products = await staging.count(conn, "SELECT count(*) FROM import_products")
    await _write(conn, outcomes["products"], products, staging.INSERT_PRODUCTS)

    await conn.execute(staging.UNKNOWN_USERS.format(collection="carts"))
    await conn.execute(staging.CART_OWNERS)
    carts = await conn.fetchrow(staging.CART_OUTCOMES)
    assert carts is not None  # an aggregate without GROUP BY: always one row
    outcomes["carts"].merged = carts["merged"]
    await _write(conn, outcomes["carts"], carts["imported"], staging.INSERT_CARTS)
    if dropped := await staging.count(conn, staging.UNKNOWN_CART_PRODUCTS):
        outcomes["carts"].notes["cart line for an unknown product dropped"] += dropped
    await conn.execute(staging.INSERT_CART_ITEMS)

    await conn.execute(staging.UNKNOWN_USERS.format(collection="orders"))
    await conn.execute(staging.REUSED_INTENTS)
    report.placeholder_products = staging.inserted(await conn.execute(staging.INSERT_PLACEHOLDERS))
    orders = await staging.count(conn, "SELECT count(*) FROM import_orders")
    await _write(conn, outcomes["orders"], orders, staging.INSERT_ORDERS)
    await conn.execute(staging.INSERT_ORDER_ITEMS)

    leads = await staging.count(conn, "SELECT count(*) FROM import_leads")
    await _write(conn, outcomes["leads"], leads, staging.INSERT_LEADS)

    if orphans := await staging.count(conn, staging.UNKNOWN_EVENT_USERS):
        outcomes["analytics"].notes["event of an unknown user kept without user"] += orphans
    events = await staging.count(conn, "SELECT count(*) FROM import_analytics")
    outcomes["analytics"].imported = events
    written, outcomes["analytics"].found = await _load_events(conn, months)
    outcomes["analytics"].already_present = events - written

    for row in await conn.fetch(
        "SELECT collection, reason, count(*) AS n FROM import_rejects GROUP BY 1, 2"
    ):
        outcomes[row["collection"]].rejected += row["n"]
        outcomes[row["collection"]].reasons[row["reason"]] += row["n"]
    for name, sql in staging.FOUND.items():
        outcomes[name].found = await staging.count(conn, sql)
    report.order_totals = await staging.order_totals(conn)


async def _write(conn: asyncpg.Connection, outcome: Outcome, kept: int, insert: str) -> None:
    """The `kept` records of a collection become rows through `insert`; those it finds
    already there were imported by an earlier run of the same import."""
    outcome.imported = kept
    outcome.already_present = kept - staging.inserted(await conn.execute(insert))


async def _load_events(conn: asyncpg.Connection, covered: set[tuple[int, int]]) -> tuple[int, int]:
    """Events into their months (see staging.NEW_MONTHS); returns rows written and rows
    found in the database for the imported events."""
    firsts = [datetime(year, month, 1, tzinfo=UTC) for year, month in sorted(covered)]
    months = await open_router(conn, firsts)
    routed = staging.inserted(await conn.execute(staging.ROUTE_EVENTS))
    await conn.execute(staging.ROLLUP_ROUTED)
    await attach_months(conn, months)
    others = await conn.fetchval("SELECT count(*) FROM import_events_rest")
    written = routed - others + staging.inserted(await conn.execute(staging.INSERT_OTHER_EVENTS))
    found = await staging.count(conn, staging.FOUND_OTHER_EVENTS)
    for month in months:
        found += await staging.count(conn, "SELECT count(*) FROM {name}".format(**month))
    await conn.execute("DROP TABLE import_events_router")
    return written, found


async def open_router(conn: asyncpg.Connection, firsts: list[datetime]) -> list[dict[str, str]]:
    """The scratch router with a bare table for each month of `firsts` that takes the bulk
    path (staging.NEW_MONTHS); those months, as `month_bounds` gives them."""
    months = [month_bounds(m) for m in await conn.fetch(staging.NEW_MONTHS, firsts)]
    await conn.execute(staging.ROUTER)
    for month in months:
        await conn.execute(staging.BARE_MONTH.format(**month))
    return months


async def attach_months(conn: asyncpg.Connection, months: list[dict[str, str]]) -> None:
    """The bare month tables, filled, become partitions of analytics_events (building their
    indexes)."""
    for month in months:
        await conn.execute(staging.ATTACH_MONTH.format(**month))


def month_bounds(month: asyncpg.Record) -> dict[str, str]:
    """A row of staging.NEW_MONTHS as the names and literals its DDL is formatted with."""
    # Identifiers and literals PostgreSQL produced itself, quoted for DDL that takes no
    # parameters.
    return {
        "name": f'"{month["name"]}"',
        "lower": f"'{month['lower'].isoformat()}'",
        "upper": f"'{month['upper'].isoformat()}'",
    }
