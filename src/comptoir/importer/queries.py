"""After staging: everything that depends on other records, in the order references need,
then the shop's tables written and what the database holds counted (staging.py has the SQL).
"""

from datetime import UTC, datetime

import asyncpg

from comptoir.importer import cutover, event_sql, staging
from comptoir.importer.report import Outcome, Report


async def settle(conn: asyncpg.Connection, report: Report, months: set[tuple[int, int]]) -> None:
    outcomes = report.collections
    for name in ("users", "products", "orders", "leads", "analytics"):
        await conn.execute(staging.DUPLICATE_IDS.format(collection=name))

    await conn.execute(staging.GUESTS)
    await conn.execute(staging.USER_MAP)
    users = await conn.fetchrow(staging.USER_OUTCOMES)
    assert users is not None  # an aggregate without GROUP BY: always one row
    outcomes["users"].merged = users["merged"]
    await cutover.before_inserts(conn, report, "users")
    await _write(conn, outcomes["users"], users["imported"], staging.INSERT_USERS)
    await cutover.after_inserts(conn, report, "users")
    report.guest_accounts = users["guests"]
    report.no_password = [row["email"] for row in await conn.fetch(staging.ACCOUNTS_WITHOUT_LOGIN)]

    products = await staging.count(conn, "SELECT count(*) FROM import_products")
    await cutover.before_inserts(conn, report, "products")
    await _write(conn, outcomes["products"], products, staging.INSERT_PRODUCTS)
    await cutover.after_inserts(conn, report, "products")

    await conn.execute(staging.UNKNOWN_USERS.format(collection="carts"))
    await conn.execute(staging.CART_OWNERS)
    carts = await conn.fetchrow(staging.CART_OUTCOMES)
    assert carts is not None  # an aggregate without GROUP BY: always one row
    outcomes["carts"].merged = carts["merged"]
    await _write(conn, outcomes["carts"], carts["imported"], staging.INSERT_CARTS)
    if dropped := await staging.count(conn, staging.UNKNOWN_CART_PRODUCTS):
        outcomes["carts"].notes["cart line for an unknown product dropped"] += dropped
    await conn.execute(staging.INSERT_CART_ITEMS)

    await _orders(conn, report)

    leads = await staging.count(conn, "SELECT count(*) FROM import_leads")
    await _write(conn, outcomes["leads"], leads, staging.INSERT_LEADS)

    if orphans := await staging.count(conn, event_sql.UNKNOWN_EVENT_USERS):
        outcomes["analytics"].notes["event of an unknown user kept without user"] += orphans
    events = await staging.count(conn, "SELECT count(*) FROM import_analytics")
    outcomes["analytics"].imported = events
    written, outcomes["analytics"].found = await _load_events(conn, months)
    outcomes["analytics"].already_present = events - written

    for statement in cutover.sources():
        await conn.execute(statement)
    for row in await conn.fetch(
        "SELECT collection, reason, count(*) AS n FROM import_rejects GROUP BY 1, 2"
    ):
        outcomes[row["collection"]].rejected += row["n"]
        outcomes[row["collection"]].reasons[row["reason"]] += row["n"]
    for name, sql in staging.FOUND.items():
        outcomes[name].found = await staging.count(conn, sql)
    report.order_totals = await staging.order_totals(conn)


async def _orders(conn: asyncpg.Connection, report: Report) -> None:
    outcome: Outcome = report.collections["orders"]
    await conn.execute(staging.UNKNOWN_USERS.format(collection="orders"))
    await conn.execute(staging.REUSED_INTENTS)
    await conn.execute(staging.PRICE_LINES)
    await conn.execute(staging.UNPRICED_ORDERS)
    await conn.execute(staging.ORDER_TOTALS_FROM_LINES)
    if differing := await staging.count(conn, staging.TOTALS_DIFFERING):
        outcome.notes["total differs from its lines: lines win"] += differing
    report.placeholder_products = staging.inserted(await conn.execute(staging.INSERT_PLACEHOLDERS))
    orders = await staging.count(conn, "SELECT count(*) FROM import_orders")
    await cutover.before_inserts(conn, report, "orders")
    await _write(conn, outcome, orders, staging.INSERT_ORDERS)
    await conn.execute(staging.INSERT_ORDER_ITEMS)
    await cutover.after_inserts(conn, report, "orders")


async def _write(conn: asyncpg.Connection, outcome: Outcome, kept: int, insert: str) -> None:
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
    found = await staging.count(conn, event_sql.FOUND_OTHER_EVENTS)
    for month in months:
        found += await staging.count(conn, "SELECT count(*) FROM {name}".format(**month))
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
