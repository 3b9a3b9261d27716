"""GET /v1/admin/dashboard: the figures the back office's dashboard shows."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx

from tests.factories import Account, make_order, make_product, make_user


async def placed(
    db: asyncpg.Connection, user: object, status: str, total: str, ago: timedelta
) -> None:
    product = await make_product(db, stock=50)
    order = await make_order(db, user, lines={product: (1, Decimal(total))}, status=status)  # type: ignore[arg-type]
    await db.execute(
        "UPDATE orders SET created_at = $2 WHERE id = $1", order, datetime.now(UTC) - ago
    )


async def test_figures_count_orders_and_what_paid_ones_brought(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    buyer = await make_user(db)
    now = datetime.now(UTC)
    today = timedelta(seconds=min(60, now.hour * 3600 + now.minute * 60 + now.second))
    await placed(db, buyer, "paid", "10.00", today)
    await placed(db, buyer, "shipped", "5.50", today)
    await placed(db, buyer, "pending", "7.00", today)
    await placed(db, buyer, "cancelled", "3.00", today)
    await placed(db, buyer, "paid", "100.00", timedelta(days=40))  # out of every window
    response = await client.get("/v1/admin/dashboard", headers=admin.headers)
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["today"] == {"orders": 4, "revenue": "15.50"}
    assert board["by_status"] == {"pending": 1, "paid": 1, "shipped": 1, "cancelled": 1}
    assert len(board["days"]) == 30
    assert board["days"][-1] == {"day": board["last_day"], "orders": 4, "revenue": "15.50"}
    assert sum(d["orders"] for d in board["days"]) == 4
    assert board["month"]["orders"] == 4
    assert board["currency"] == "EUR"


async def test_low_stock_lists_products_on_sale_lowest_first(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    await db.execute("UPDATE products SET stock = stock + 1000")
    low = await make_product(db, name="Almost gone", stock=1)
    await make_product(db, name="Hidden", stock=0, active=False)
    gone = await make_product(db, name="Deleted", stock=0)
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", gone)
    response = await client.get("/v1/admin/dashboard", headers=admin.headers)
    first = response.json()["low_stock"][0]
    assert (first["id"], first["stock"]) == (str(low), 1)
    names = [p["name"] for p in response.json()["low_stock"]]
    assert "Hidden" not in names and "Deleted" not in names


async def test_the_orders_are_read_through_an_index(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Never a scan of every order: with sequential scans priced out, the plan of the
    dashboard's statement still finds an index path for the orders. (The low-stock list
    reads the products on sale: an index on the stock would cost every sale more than it
    saves a dashboard load, tests/db/test_indexes.py.)"""
    from comptoir.dashboard import queries, router

    await db.execute("SET LOCAL enable_seqscan = off")
    window = router.window(datetime.now(UTC))
    plan = await db.fetchval(
        f"EXPLAIN (FORMAT JSON) {queries.DASHBOARD}",
        list(queries.EVERY_STATUS),
        window.since,
        window.first_day,
        window.last_day,
        list(queries.EARNING),
        window.month_start,
        8,
        "EUR",
    )
    text = str(plan)
    assert "orders_status_created_at_idx" in text
