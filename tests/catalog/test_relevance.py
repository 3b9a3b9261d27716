"""The search ranks as a shopper expects, on a labelled set of queries (relevance.json,
which bench/relevance.py reads too): typos, accents, plurals, brands, categories, two-word
queries, each with the products that should come first.

Figures: precision at 5 (of the first five results, the share that are expected, out of at
most the number expected: a query with two expected products scores 1.0 when both are in
the first five) and mean reciprocal rank (1 / the rank of the first expected product, 0
when none is in the first page), averaged over the queries.
"""

import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx

RELEVANCE = Path(__file__).parent / "relevance.json"
# Measured 2026-11-25: precision@5 1.00, MRR 0.99 (bench/README.md has before and after).
PRECISION_AT_5 = 0.95
MRR = 0.95
PER_QUERY_FLOOR = 0.5  # no query may lose its expected products below this precision


def labelled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RELEVANCE.read_text())
    return data


def figures(expected: list[str], found: list[str]) -> tuple[float, float]:
    """(precision at 5, reciprocal rank) of one query."""
    top = found[:5]
    precision = len(set(top) & set(expected)) / min(5, len(expected))
    rank = next((i for i, key in enumerate(found, start=1) if key in expected), None)
    return precision, 1 / rank if rank else 0.0


async def test_the_labelled_queries_find_what_shoppers_expect_first(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    data = labelled()
    assert len(data["queries"]) >= 50
    keys = {}
    for product in data["products"]:
        ident = await db.fetchval(
            "INSERT INTO products (name, price, attributes) VALUES ($1, 10, $2::jsonb)"
            " RETURNING id",
            product["name"],
            json.dumps(product["attributes"]),
        )
        keys[str(ident)] = product["key"]
    scores = {}
    for query in data["queries"]:
        response = await client.get("/v1/products/search", params={"q": query["q"]})
        assert response.status_code == 200, response.text
        found = [keys[item["id"]] for item in response.json()["items"]]
        scores[query["q"]] = figures(query["expected"], found)
    precision = sum(p for p, _ in scores.values()) / len(scores)
    mrr = sum(r for _, r in scores.values()) / len(scores)
    weak = {q: s for q, s in scores.items() if s[0] < PER_QUERY_FLOOR}
    assert (precision, weak) >= (PRECISION_AT_5, {}), (precision, mrr, weak)
    assert mrr >= MRR, (precision, mrr)
