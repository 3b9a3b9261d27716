"""Each sorted and filtered page of the catalog is read through an index, checked with
EXPLAIN on a catalog big enough for the planner to choose as it would in production."""

import json
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from comptoir.catalog import queries
from comptoir.pagination import Arguments


@pytest.fixture
async def big_catalog(db: asyncpg.Connection) -> None:
    await db.execute(
        """INSERT INTO products (name, price, stock, active, attributes, created_at, deleted_at)
        SELECT 'Produit ' || n, (n % 997) + 0.99, n % 13, n % 31 <> 0,
               jsonb_build_object('brand', 'Marque ' || (n % 50), 'colour',
                                  (ARRAY['bleu', 'rouge', 'vert'])[1 + n % 3]),
               now() - make_interval(mins => n), CASE WHEN n % 101 = 0 THEN now() END
        FROM generate_series(1, 30000) AS n"""
    )
    await db.execute("ANALYZE products")


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


Scan = tuple[str, float]  # "<node type> <index>", estimated rows


async def page_plan(db: asyncpg.Connection, sort: str, filters: queries.Filters) -> list[Scan]:
    args = Arguments("EUR")
    where = [queries.VISIBLE, *filters.clauses(args)]
    sql = queries.keyset_page_sql(
        args, where=where, order=queries.ORDERS[sort], after=None, limit=20,
        item=queries.PRODUCT_JSON, counted=True,
    )  # fmt: skip
    explained = await db.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args.values)
    plan = json.loads(explained)[0]["Plan"]
    return [
        (f"{n['Node Type']} {n.get('Index Name', '')}".strip(), n["Plan Rows"])
        for n in nodes(plan)
        if n.get("Relation Name") == "products" or "Index Name" in n
    ]


FILTERS = {
    "none": queries.Filters(),
    "price range": queries.Filters(min_price=Decimal(10), max_price=Decimal(400)),
    "in stock": queries.Filters(in_stock=True),
    "rare attribute": queries.Filters(contains=[[{"brand": "Marque 7"}, {"brand": ["Marque 7"]}]]),
    "all": queries.Filters(Decimal(10), Decimal(900), True, [[{"colour": "bleu"}]]),
}


async def test_every_sort_and_filter_reads_an_index(
    db: asyncpg.Connection, big_catalog: None
) -> None:
    """The page (first in the plan) walks an index. The count reads at most COUNT_CAP + 1
    matches: through an index, or sequentially only when so many rows match that the
    limit stops the scan early (the planner's choice, and a cheap one)."""
    for sort in ("newest", "price_asc", "price_desc", "name"):
        for name, filters in FILTERS.items():
            (page, _), *count = await page_plan(db, sort, filters)
            assert page.startswith(("Index Scan", "Bitmap", "Index Only Scan")), (sort, name, page)
            dense = 5 * queries.COUNT_CAP  # the limit stops it within a fifth of the table
            assert all(rows >= dense for scan, rows in count if scan == "Seq Scan"), (
                sort, name, count,
            )  # fmt: skip
