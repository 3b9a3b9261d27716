"""Fuzzy product search: typos and accents tolerated, fast however many names share a word.

Two short statements instead of a similarity scan over the catalog:

1. Each word of the query finds its closest spellings in `product_words`, the dictionary of
   the words of all product names (folded: lower case, no accents). The dictionary holds a
   few thousand words, so a trigram lookup there costs well under a millisecond whatever
   the size of the catalog: "chausure" finds "chaussure", "elegant" finds "elegant" (from
   "Élégant"), "chaus" finds "chaussure" by prefix.
2. Products whose name holds, for every query word, one of its spellings (as a word start,
   accents and case ignored) are fetched through the trigram index on products.name — a
   regular expression the index can serve — capped at CANDIDATES rows, then ranked by
   trigram similarity of the whole name to the whole query, best first.

A query word with no close spelling in the dictionary is left out (a stray typo does not
empty the results); a query with none at all finds nothing.

The cap bounds the work of a query whose words are in thousands of names ("bleu"): the
ranking is then over the first CANDIDATES matches, which all hold every word of the query.
"""

import re

import asyncpg

from comptoir.catalog.queries import PRODUCT_JSON, VISIBLE

CANDIDATES = 200
MAX_WORDS = 6
SPELLINGS_PER_WORD = 4

# The spellings of each query word, exact first, then by prefix, then by trigram distance.
SPELLINGS = f"""
SELECT q.word, ARRAY(
    SELECT d.word FROM product_words AS d
    WHERE d.word % q.word OR (length(q.word) >= 3 AND d.word LIKE q.word || '%')
    ORDER BY d.word = q.word DESC, d.word LIKE q.word || '%' DESC, d.word <-> q.word, d.word
    LIMIT {SPELLINGS_PER_WORD}) AS spellings
FROM (
    SELECT DISTINCT w AS word
    FROM regexp_split_to_table(fold($1), '[^[:alnum:]]+') AS w
    WHERE w <> ''
    LIMIT {MAX_WORDS}
) AS q
"""

# Each folded letter matches its accented forms in the stored name.
ACCENTED = {
    "a": "aàâäáãå",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîïíì",
    "n": "nñ",
    "o": "oôöóòõø",
    "u": "uùûüú",
    "y": "yÿý",
}


def word_pattern(spellings: list[str]) -> str:
    """A regular expression matching any of `spellings` at a word start, accents ignored."""
    alternatives = (
        "".join(f"[{ACCENTED[ch]}]" if ch in ACCENTED else re.escape(ch) for ch in spelling)
        for spelling in spellings
    )
    return r"\m(" + "|".join(alternatives) + ")"


def ranked_page_sql(word_count: int) -> str:
    matches = " AND ".join(f"p.name ~* ${i}" for i in range(5, 5 + word_count))
    return f"""
WITH candidates AS MATERIALIZED (
    SELECT p.* FROM products AS p WHERE {VISIBLE} AND {matches} LIMIT {CANDIDATES}
), ranked AS (
    SELECT p.*, row_number() OVER (
        ORDER BY similarity(fold(p.name), fold($2)) DESC, p.created_at DESC, p.id) AS n
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
    rows = await conn.fetch(SPELLINGS, query)
    patterns = [word_pattern(r["spellings"]) for r in rows if r["spellings"]]
    if not patterns:
        return EMPTY_PAGE
    page: str = await conn.fetchval(
        ranked_page_sql(len(patterns)), currency, query, offset, limit, *patterns
    )
    return page
