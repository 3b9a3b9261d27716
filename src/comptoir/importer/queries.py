"""Every statement the importer sends: the staging tables opened and filled, then
everything that depends on other records settled in the order references need, the shop's
tables written and what the database holds counted. The statements' text is kept by role
in staging.py, event_sql.py and cutover.py; this module is the one that sends them.
"""

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg

from comptoir.importer import catalog_fields, cutover, event_sql, staging
from comptoir.importer.feed import EventFeed
from comptoir.importer.report import Outcome, Report


class Statements(Protocol):
    """What settling needs of a connection: asyncpg's, or the same connection taking turns
    with the events' parse (feed.py)."""

    async def execute(self, query: str, *args: Any) -> str: ...
    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]: ...
    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...


class Turns:
    """The connection as the other collections' settling sees it while the events are
    parsed (feed.py): before each statement, the events parsed so far go in if they fill
    half the feed's queue."""

    def __init__(self, conn: asyncpg.Connection, feed: EventFeed) -> None:
        self._conn, self._feed = conn, feed

    async def execute(self, query: str, *args: Any) -> str:
        await self._feed.flush()
        return await self._conn.execute(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        await self._feed.flush()
        return await self._conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        await self._feed.flush()
        return await self._conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        await self._feed.flush()
        return await self._conn.fetchval(query, *args)


async def settle(conn: Statements, report: Report) -> None:
    """Every collection but the events, which are still being read (`settle_events`
    follows). Passwords still to hash are placeholders here (`store_hashes`)."""
    outcomes = report.collections
    for name in ("users", "products", "orders", "leads"):
        await conn.execute(staging.DUPLICATE_IDS.format(collection=name))

    await conn.execute(staging.GUESTS)
    await conn.execute(staging.USER_MAP)
    users = await conn.fetchrow(staging.USER_OUTCOMES)
    assert users is not None  # an aggregate without GROUP BY: always one row
    outcomes["users"].merged = users["merged"]
    await cutover_before_inserts(conn, report, "users")
    await _write(conn, outcomes["users"], users["imported"], staging.INSERT_USERS)
    await cutover_after_inserts(conn, report, "users")
    report.guest_accounts = users["guests"]
    report.no_password = [row["email"] for row in await conn.fetch(staging.ACCOUNTS_WITHOUT_LOGIN)]

    products = await count(conn, "SELECT count(*) FROM import_products")
    await cutover_before_inserts(conn, report, "products")
    await _write(conn, outcomes["products"], products, staging.INSERT_PRODUCTS)
    await cutover_after_inserts(conn, report, "products")

    await conn.execute(staging.UNKNOWN_USERS.format(collection="carts"))
    await conn.execute(staging.CART_OWNERS)
    carts = await conn.fetchrow(staging.CART_OUTCOMES)
    assert carts is not None  # an aggregate without GROUP BY: always one row
    outcomes["carts"].merged = carts["merged"]
    await _write(conn, outcomes["carts"], carts["imported"], staging.INSERT_CARTS)
    if dropped := await count(conn, staging.UNKNOWN_CART_PRODUCTS):
        outcomes["carts"].notes["cart line for an unknown product dropped"] += dropped
    await conn.execute(staging.INSERT_CART_ITEMS)

    await _orders(conn, report)

    leads = await count(conn, "SELECT count(*) FROM import_leads")
    await _write(conn, outcomes["leads"], leads, staging.INSERT_LEADS)

    for statement in cutover.sources():
        await conn.execute(statement)
    for name, sql in staging.FOUND.items():
        outcomes[name].found = await count(conn, sql)
    report.order_totals = await order_totals(conn)
    await conn.execute(catalog_fields.FILL)


async def settle_events(
    conn: asyncpg.Connection, report: Report, months: set[tuple[int, int]]
) -> None:
    """The events, all staged, into their months; then the records of every collection
    rejected in SQL, counted."""
    outcome = report.collections["analytics"]
    await conn.execute(staging.DUPLICATE_IDS.format(collection="analytics"))
    if orphans := await count(conn, event_sql.UNKNOWN_EVENT_USERS):
        outcome.notes["event of an unknown user kept without user"] += orphans
    events = await count(conn, "SELECT count(*) FROM import_analytics")
    outcome.imported = events
    written, outcome.found = await _load_events(conn, months)
    outcome.already_present = events - written

    for row in await conn.fetch(
        "SELECT collection, reason, count(*) AS n FROM import_rejects GROUP BY 1, 2"
    ):
        report.collections[row["collection"]].rejected += row["n"]
        report.collections[row["collection"]].reasons[row["reason"]] += row["n"]


async def _orders(conn: Statements, report: Report) -> None:
    outcome: Outcome = report.collections["orders"]
    await conn.execute(staging.UNKNOWN_USERS.format(collection="orders"))
    await conn.execute(staging.REUSED_INTENTS)
    await conn.execute(staging.PRICE_LINES)
    await conn.execute(staging.UNPRICED_ORDERS)
    await conn.execute(staging.ORDER_TOTALS_FROM_LINES)
    if differing := await count(conn, staging.TOTALS_DIFFERING):
        outcome.notes["total differs from its lines: lines win"] += differing
    report.placeholder_products = staging.inserted(await conn.execute(staging.INSERT_PLACEHOLDERS))
    orders = await count(conn, "SELECT count(*) FROM import_orders")
    await cutover_before_inserts(conn, report, "orders")
    await _write(conn, outcome, orders, staging.INSERT_ORDERS)
    await conn.execute(staging.INSERT_ORDER_ITEMS)
    await cutover_after_inserts(conn, report, "orders")


async def _write(conn: Statements, outcome: Outcome, kept: int, insert: str) -> None:
    """The `kept` records of a collection become rows through `insert`; those it finds
    already there were imported by an earlier run of the same import."""
    outcome.imported = kept
    outcome.already_present = kept - staging.inserted(await conn.execute(insert))


async def _load_events(conn: asyncpg.Connection, covered: set[tuple[int, int]]) -> tuple[int, int]:
    """Events into their months (see event_sql.NEW_MONTHS); returns rows written and rows
    found in the database for the imported events."""
    firsts = [datetime(year, month, 1, tzinfo=UTC) for year, month in sorted(covered)]
    months = await open_router(conn, firsts)
    routed = staging.inserted(await conn.execute(event_sql.ROUTE_EVENTS))
    await conn.execute(event_sql.ROLLUP_ROUTED)
    await attach_months(conn, months)
    others = await conn.fetchval("SELECT count(*) FROM import_events_rest")
    written = routed - others + staging.inserted(await conn.execute(event_sql.INSERT_OTHER_EVENTS))
    found = await count(conn, event_sql.FOUND_OTHER_EVENTS)
    for month in months:
        found += await count(conn, "SELECT count(*) FROM {name}".format(**month))
    await conn.execute("DROP TABLE import_events_router")
    return written, found


async def open_router(conn: asyncpg.Connection, firsts: list[datetime]) -> list[dict[str, str]]:
    """The scratch router with a bare table for each month of `firsts` that takes the bulk
    path (event_sql.NEW_MONTHS); those months, as `month_bounds` gives them."""
    months = [month_bounds(m) for m in await conn.fetch(event_sql.NEW_MONTHS, firsts)]
    await conn.execute(event_sql.ROUTER)
    for month in months:
        await conn.execute(event_sql.BARE_MONTH.format(**month))
    return months


async def attach_months(conn: asyncpg.Connection, months: list[dict[str, str]]) -> None:
    """The bare month tables, filled, become partitions of analytics_events (building their
    indexes)."""
    for month in months:
        await conn.execute(event_sql.ATTACH_MONTH.format(**month))


def month_bounds(month: asyncpg.Record) -> dict[str, str]:
    """A row of event_sql.NEW_MONTHS as the names and literals its DDL is formatted with."""
    # Identifiers and literals PostgreSQL produced itself, quoted for DDL that takes no
    # parameters.
    return {
        "name": f'"{month["name"]}"',
        "lower": f"'{month['lower'].isoformat()}'",
        "upper": f"'{month['upper'].isoformat()}'",
    }


async def cutover_before_inserts(conn: Statements, report: Report, collection: str) -> None:
    """Counts what is new since the last import, before the new rows go in."""
    target = cutover.target_of(collection)
    if not await conn.fetchval(
        "SELECT EXISTS (SELECT FROM import_sources WHERE collection = $1)", collection
    ):
        return  # a first import: nothing to compare with
    counts = report.cutover.setdefault(collection, Counter(dict.fromkeys(cutover.VERDICTS, 0)))
    counts["added"] = int(await conn.fetchval(cutover.ADDED.format(**vars(target))))


async def cutover_after_inserts(conn: Statements, report: Report, collection: str) -> None:
    """Updates the rows changed there only, and reports conflicts and gone records."""
    if collection not in report.cutover:
        return
    target = cutover.target_of(collection)
    counts = report.cutover[collection]
    await conn.execute(cutover.CLASSIFY.format(**vars(target)))
    for verdict, n in await conn.fetch("SELECT verdict, count(*) FROM import_cutover GROUP BY 1"):
        counts[verdict] = n
    await conn.execute(cutover.APPLY.format(**vars(target)))
    await conn.execute(cutover.REMEMBER.format(**vars(target)))
    for row in await conn.fetch(
        "SELECT legacy_id, before, after, comptoir FROM import_cutover"
        " WHERE verdict = 'conflicting' ORDER BY legacy_id"
    ):
        report.conflicts.append(cutover.conflict(collection, row))
    gone = [row[0] for row in await conn.fetch(cutover.GONE.format(**vars(target)))]
    counts["gone"] = len(gone)
    report.gone[collection] = gone
    await conn.execute("DROP TABLE import_cutover")


async def count(conn: Statements, sql: str) -> int:
    value = await conn.fetchval(sql)
    return int(value or 0)


async def order_totals(conn: Statements) -> dict[str, str]:
    """Sums of the imported orders' totals: as the source stated them, as their lines add
    up, and as stored."""
    row = await conn.fetchrow(staging.ORDER_TOTALS)
    assert row is not None  # a SELECT of scalar subqueries without FROM: always one row
    return {name: f"{row[name] or 0:.2f}" for name in ("stated", "lines", "stored")}


async def open_staging(conn: asyncpg.Connection) -> None:
    """The import's session settings (one long transaction, big sorts) and its temporary
    staging tables."""
    await conn.execute("SET LOCAL work_mem = '256MB'; SET LOCAL statement_timeout = 0")
    await conn.execute(staging.TABLES)


async def copy_staged(
    conn: asyncpg.Connection, table: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """A batch of checked records into the staging table of their collection."""
    await conn.copy_records_to_table(
        f"import_{table}", records=rows, columns=staging.COLUMNS[table]
    )


async def keep_unchanged_hashes(conn: asyncpg.Connection, ordinals: list[int]) -> set[int]:
    """Of the staged users at `ordinals` (passwords still to hash), those whose record is
    unchanged since the last import: they take the hash the database holds (see
    staging.UNCHANGED_HASHES). Their ordinals."""
    return {row["ord"] for row in await conn.fetch(staging.UNCHANGED_HASHES, ordinals)}


async def hash_later(conn: asyncpg.Connection, ordinals: list[int]) -> None:
    """The staged users at `ordinals` have a password hashed after the events are read:
    they stand in with a placeholder until `store_hashes` (staging.PENDING_HASHES)."""
    await conn.execute(staging.PENDING_HASHES, ordinals)


async def store_hashes(conn: asyncpg.Connection, hashes: list[tuple[int, str]]) -> None:
    """The argon2id hashes of plain-text passwords, by record ordinal, in place of their
    placeholders: on the staged users, and on the accounts written with one."""
    if hashes:
        await conn.copy_records_to_table("import_hashes", records=hashes)
        await conn.execute(staging.HASHES)
        await conn.execute(staging.HASHES_INTO_ACCOUNTS)


async def copy_events(conn: asyncpg.Connection, text: AsyncIterator[bytes]) -> None:
    """Checked events, as `COPY` text (feed.py), into their staging table."""
    await conn.copy_to_table("import_analytics", source=text, columns=staging.COLUMNS["analytics"])


async def staged_rejects(conn: asyncpg.Connection) -> AsyncIterator[tuple[str, Any, str]]:
    """Records rejected in SQL, as (collection, source record, reason), streamed."""
    async with conn.transaction():  # a savepoint: the cursor needs a transaction
        async for row in conn.cursor(staging.REJECTS):
            yield row["collection"], json.loads(row["raw"]), row["reason"]


async def analyze_written(conn: asyncpg.Connection) -> None:
    """Fresh statistics, so the shop's first queries on the new rows plan well. Event
    partitions are left to autovacuum, which analyzes new tables soon enough: sampling
    dozens of them here would add seconds to every import."""
    try:
        await conn.execute("ANALYZE users, products, carts, cart_items, orders, order_items, leads")
    except asyncio.CancelledError:
        # Ctrl-C after the commit: the import is done, and its report is still owed.
        pass
