"""SQL of the catalog.

The customer-facing reads build their JSON inside PostgreSQL (json_build_object, json_agg)
and hand it to the response as it is: no rows decoded into Python objects, no Pydantic
validation, no re-encoding — that is most of a naive handler's time.
"""

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from comptoir.pagination import Arguments, newest_first

# $1 is always the shop's currency. Money as text keeps its two places: numeric(12,2)
# prints as "19.90", never as a float.
PRODUCT_JSON = """json_build_object(
    'id', p.id, 'name', p.name, 'description', p.description, 'price', p.price::text,
    'currency', $1::text, 'stock', p.stock, 'active', p.active,
    'attributes', p.attributes, 'created_at', p.created_at, 'updated_at', p.updated_at,
    'deleted_at', p.deleted_at)"""

VISIBLE = "p.active AND p.deleted_at IS NULL"


async def list_page_json(
    conn: asyncpg.Connection, *, currency: str, after: tuple[datetime, UUID] | None, limit: int
) -> str:
    """Visible products newest first, on products(active, created_at DESC) WHERE deleted_at
    IS NULL."""
    args = Arguments(currency)
    sql = newest_first(
        args, source="products AS p", alias="p", where=[VISIBLE], item=PRODUCT_JSON,
        after=after, limit=limit,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page


async def fetch_product_json(
    conn: asyncpg.Connection, *, currency: str, product_id: UUID, hidden_too: bool
) -> str | None:
    row: str | None = await conn.fetchval(
        f"SELECT {PRODUCT_JSON} FROM products AS p WHERE p.id = $2 AND ($3 OR ({VISIBLE}))",
        currency,
        product_id,
        hidden_too,
    )
    return row


async def insert_product_json(
    conn: asyncpg.Connection,
    *,
    currency: str,
    name: str,
    description: str,
    price: Decimal,
    stock: int,
    active: bool,
) -> str:
    row: str = await conn.fetchval(
        "WITH p AS (INSERT INTO products (name, description, price, stock, active)"
        " VALUES ($2, $3, $4, $5, $6) RETURNING *)"
        f" SELECT {PRODUCT_JSON} FROM p",
        currency,
        name,
        description,
        price,
        stock,
        active,
    )
    return row


EDITABLE = ("name", "description", "price", "stock", "active")


async def update_product_json(
    conn: asyncpg.Connection, *, currency: str, product_id: UUID, changes: dict[str, Any]
) -> str | None:
    """Apply `changes` (a subset of EDITABLE) to a product that is not deleted."""
    columns = [c for c in EDITABLE if c in changes]
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=3))
    row: str | None = await conn.fetchval(
        f"WITH p AS (UPDATE products SET {assignments or 'id = id'}"
        " WHERE id = $2 AND deleted_at IS NULL RETURNING *)"
        f" SELECT {PRODUCT_JSON} FROM p",
        currency,
        product_id,
        *(changes[c] for c in columns),
    )
    return row


async def soft_delete_product(conn: asyncpg.Connection, *, product_id: UUID) -> bool:
    deleted: UUID | None = await conn.fetchval(
        "UPDATE products SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id",
        product_id,
    )
    return deleted is not None


# ----------------------------------------------------------------- search
#
# Fuzzy product search: typos and accents tolerated, fast however many names share a word.
#
# Two short statements instead of a similarity scan over the catalog:
#
# 1. Each word of the query finds its closest words in `product_words`, the dictionary of the
#    words of all product names (folded: lower case, no accents), with their spellings. The
#    dictionary holds a few thousand words, so a trigram lookup there costs well under a
#    millisecond whatever the size of the catalog: "chausure" finds "chaussure", "elegant"
#    finds "élégant" (folded "elegant"), "chaus" finds "chaussure" by prefix.
# 2. Products whose name holds, for every query word, one of those spellings at a word start
#    (any case) are fetched through the trigram index on products.name — a regular expression
#    the index can serve — capped at CANDIDATES rows, then ranked by trigram similarity of the
#    whole name to the corrected query, best first.
#
# A query word with no close spelling in the dictionary is left out (a stray typo does not
# empty the results); a query with none at all finds nothing.
#
# The cap bounds the work of a query whose words are in thousands of names ("bleu"): the
# ranking is then over the first CANDIDATES matches, which all hold every word of the query.


CANDIDATES = 200
MAX_WORDS = 6
WORDS_PER_QUERY_WORD = 3

# For each query word (folded, in query order): its closest dictionary words, exact first,
# then by prefix, then by trigram distance; and every spelling of those words as names
# write them (accents and all), best word first.
SPELLINGS = f"""
SELECT q.word, ARRAY(
    SELECT s.spelling FROM product_words AS s
    WHERE s.word = ANY (m.words)
    ORDER BY array_position(m.words, s.word), s.spelling) AS spellings
FROM (
    SELECT w AS word, min(n) AS n
    FROM regexp_split_to_table(fold($1), '[^[:alnum:]]+') WITH ORDINALITY AS t (w, n)
    WHERE w <> ''
    GROUP BY w
    ORDER BY n
    LIMIT {MAX_WORDS}
) AS q
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(b.word ORDER BY b.exact DESC, b.prefix DESC, b.distance, b.word),
                    '{{}}') AS words
    FROM (
        SELECT d.word, d.word = q.word AS exact, d.word LIKE q.word || '%' AS prefix,
               d.word <-> q.word AS distance
        FROM product_words AS d
        WHERE d.word % q.word OR (length(q.word) >= 3 AND d.word LIKE q.word || '%')
        GROUP BY d.word
        ORDER BY exact DESC, prefix DESC, distance, d.word
        LIMIT {WORDS_PER_QUERY_WORD}
    ) AS b
) AS m
ORDER BY q.n
"""


def word_pattern(spellings: list[str]) -> str:
    """A regular expression matching any of `spellings` at a word start, any case."""
    return r"\m(" + "|".join(re.escape(spelling) for spelling in spellings) + ")"


def ranked_page_sql(word_count: int) -> str:
    matches = " AND ".join(f"p.name ~* ${i}" for i in range(5, 5 + word_count))
    # $2 is the query as corrected (best spelling of each word), so that ranking compares
    # like with like without folding every candidate's name.
    return f"""
WITH candidates AS MATERIALIZED (
    SELECT p.* FROM products AS p WHERE {VISIBLE} AND {matches} LIMIT {CANDIDATES}
), ranked AS (
    SELECT p.*, row_number() OVER (
        ORDER BY similarity(lower(p.name), $2) DESC, p.created_at DESC, p.id) AS n
    FROM candidates AS p
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg({PRODUCT_JSON} ORDER BY p.n) FROM ranked AS p
         WHERE p.n > $3 AND p.n <= $3 + $4),
        '[]'::json),
    'next_cursor',
        CASE WHEN (SELECT count(*) FROM ranked) > $3 + $4 THEN ($3 + $4)::text END)
"""


EMPTY_PAGE = '{"items": [], "next_cursor": null}'


async def search_page_json(
    conn: asyncpg.Connection, *, currency: str, query: str, offset: int, limit: int
) -> str:
    found = [r["spellings"] for r in await conn.fetch(SPELLINGS, query) if r["spellings"]]
    if not found:
        return EMPTY_PAGE
    corrected = " ".join(spellings[0] for spellings in found)
    page: str = await conn.fetchval(
        ranked_page_sql(len(found)),
        currency,
        corrected,
        offset,
        limit,
        *(word_pattern(s) for s in found),
    )
    return page
