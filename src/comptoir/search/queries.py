"""SQL of the product search: `GET /v1/products/search` and `/v1/products/suggest`.

Search matches products through the search vocabulary (`product_words`, kept by triggers
on products) and each product's `search_doc`; the pages it returns hold the catalog's
product documents (catalog/queries.py).
"""

from dataclasses import dataclass

import asyncpg

from comptoir.catalog.queries import PRODUCT_JSON, VISIBLE

# Ranked as a shopper expects: exact words first, then words the query's words begin, then
# typo-tolerant matches only for a query word that no product has, exactly or as a prefix.
# Accents and case are ignored; brand and category words count, below name words.
#
# Products are matched on `search_doc`, the folded words of their name (weight A) and of
# their brand and categories (weight B, product_tags()), through its GIN index:
#
# 1. One statement looks up each query word (folded, at most MAX_WORDS) in `product_words`,
#    the vocabulary of names, brands and categories (a few thousand words, whatever the
#    size of the catalog): is it a word, and the start of which words (the first
#    COMPLETIONS)? If neither, its closest words by trigram distance ("tase" -> "tasse"):
#    the typo tolerance, for that word only.
# 2. One statement fetches the candidates tier by tier, each tier a full-text query over the
#    index; a tier runs only when the ones before did not fill the page (then it takes up
#    to CANDIDATES). When every word is a word of the vocabulary: every word exactly (a
#    plural or singular form counts: "tasses" is "tasse"), then as prefixes ("elegant"
#    finds "élégante"). Else the words that are not words are read as prefixes ("chaus"
#    finds "chaussure"); a word that starts no word is replaced by its closest correction,
#    then (next tier) by any of its NEAR_WORDS corrections. The candidates are ranked:
#    tier, ts_rank (a name word weighs more than a brand word; shorter names first through
#    the length normalisation), newest.
#
# So an exact word never brings in fuzzy neighbours ("tasse" does not find "tressé"), and a
# word with thousands of products ("bleu") costs a bounded read: CANDIDATES rows at most.

CANDIDATES = 100  # a search shows at most this many results (5 pages of 20)
MAX_WORDS = 6
NEAR_WORDS = 3
COMPLETIONS = 5

# The vocabulary's words starting with q.word: a range on its "C"-ordered index, which
# U+10FFFF closes (no UTF-8 text sorts after it bytewise).
PREFIXED = 'd.word COLLATE "C" >= q.word AND d.word COLLATE "C" < q.word || chr(1114111)'

WORDS = f"""
SELECT q.word,
       EXISTS (SELECT FROM product_words AS d WHERE d.word = ANY (q.forms)) AS exact,
       k.known,
       ARRAY(SELECT DISTINCT d.word COLLATE "C" FROM product_words AS d
             WHERE {PREFIXED} AND d.word <> ALL (q.forms)
             ORDER BY 1
             LIMIT {COMPLETIONS}) AS completions,
       CASE WHEN k.known THEN '{{}}' ELSE ARRAY(
           SELECT d.word FROM product_words AS d
           WHERE d.word % q.word
           GROUP BY d.word
           ORDER BY d.word <-> q.word, d.word
           LIMIT {NEAR_WORDS}) END AS near
FROM (
    SELECT w AS word, min(n) AS n,
           array_remove(ARRAY[
               w, w || CASE WHEN right(w, 2) IN ('au', 'eu') THEN 'x' ELSE 's' END,
               CASE WHEN length(w) > 3 AND right(w, 1) IN ('s', 'x') THEN left(w, -1) END],
               NULL) AS forms
    FROM regexp_split_to_table(fold($1), '[^[:alnum:]]+') WITH ORDINALITY AS t (w, n)
    WHERE w <> ''
    GROUP BY w
    ORDER BY n
    LIMIT {MAX_WORDS}
) AS q
CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM product_words AS d WHERE {PREFIXED}) AS known) AS k
ORDER BY q.n
"""


@dataclass(frozen=True)
class QueryWord:
    """A query word as the vocabulary knows it: a word (`exact`, in any of its forms), the
    start of words (`known`), or else its closest words (`near`, empty when nothing is
    close)."""

    word: str
    exact: bool
    known: bool
    completions: list[str]  # the first COMPLETIONS words it starts, in byte order
    near: list[str]

    def forms(self) -> str:
        # French plurals: -s, and -x after -au, -eu ("bateaux", "jeux").
        forms = {self.word, self.word + ("x" if self.word.endswith(("au", "eu")) else "s")}
        if len(self.word) > 3 and self.word[-1] in "sx":
            forms.add(self.word[:-1])
        return " | ".join(f"'{form}'" for form in sorted(forms))

    def starts(self) -> str:
        # The words it starts as the vocabulary has them, not a prefix query ('lin':*),
        # whose cost grows with the number of words sharing the prefix.
        return " | ".join([self.forms(), *(f"'{w}'" for w in self.completions)])

    def corrected(self, closest_only: bool) -> str:
        if self.known:
            return self.forms() if self.exact else self.starts()
        return " | ".join(f"'{w}'" for w in self.near[: 1 if closest_only else None])


def tiers(words: list[QueryWord]) -> list[str]:
    """The full-text queries of the tiers, best first (`simple` configuration; a word holds
    letters and digits only, as split by the first statement, so quoting is safe). Each
    tier is there only if a word needs it: prefixes for a word that is not a word of the
    vocabulary, corrections for one that does not even start one."""
    usable = [w for w in words if w.known or w.near]
    if not usable:
        return []
    if all(w.exact for w in usable):
        # Then the same words as prefixes: "elegant" finds "élégante" after "élégant".
        return [
            " & ".join(f"({w.forms()})" for w in usable),
            " & ".join(f"({w.starts()})" for w in usable),
        ]
    if all(w.known for w in usable):
        return [" & ".join(f"({w.corrected(True)})" for w in usable)]
    return [" & ".join(f"({w.corrected(closest)})" for w in usable) for closest in (True, False)]


def ranked_sql(tier_count: int, item: str, paged: bool) -> str:
    """The page ($3 offset, $4 limit) of the candidates found by the tiers' queries ($5...),
    each tier adding what the ones before did not find, up to $2 candidates in all; with
    its `next_cursor` when `paged`.

    A tier runs only when the ones before found too few for this page and the next one's
    first row; when it runs, it finds all it can up to $2, so that every page ranks the
    same candidates of the tiers it needs (no page repeats or skips a row)."""
    steps = []
    for k in range(tier_count):
        earlier = "".join(
            f" AND NOT p.search_doc @@ to_tsquery('simple', ${5 + j})" for j in range(k)
        )
        found = " + ".join(f"(SELECT count(*) FROM t{j})" for j in range(k)) or "0"
        steps.append(
            f"""t{k} AS MATERIALIZED (
    SELECT p.*, {k} AS tier FROM products AS p
    WHERE {VISIBLE} AND p.search_doc @@ to_tsquery('simple', ${5 + k}){earlier}
    LIMIT CASE WHEN {found} <= $3::int + $4::int THEN greatest($2::int - {found}, 0) ELSE 0 END)"""
        )
    union = " UNION ALL ".join(f"SELECT * FROM t{k}" for k in range(tier_count))
    query = " || ".join(f"to_tsquery('simple', ${5 + k})" for k in range(tier_count))
    more = (
        f", 'next_cursor', CASE WHEN (SELECT count(*) FROM ({union}) AS c) > $3 + $4"
        " THEN ($3 + $4)::text END"
        if paged
        else ""
    )
    # `$1::text` types the currency for the items that do not show it (suggestions).
    return f"""
WITH {", ".join(steps)}
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg({item} ORDER BY p.tier, p.rank DESC, p.created_at DESC, p.id)
         FROM (SELECT c.*, ts_rank(c.search_doc, {query}, 1) AS rank, $1::text AS currency
               FROM ({union}) AS c
               ORDER BY c.tier, rank DESC, c.created_at DESC, c.id
               OFFSET $3 LIMIT $4) AS p),
        '[]'::json){more})::text
"""


EMPTY_PAGE = '{"items": [], "next_cursor": null}'
NO_SUGGESTIONS = '{"items": []}'
SUGGESTION_JSON = "json_build_object('id', p.id, 'name', p.name)"


async def look_up_words(conn: asyncpg.Connection, *, query: str) -> list[QueryWord]:
    return [
        QueryWord(r["word"], r["exact"], r["known"], list(r["completions"]), list(r["near"]))
        for r in await conn.fetch(WORDS, query)
    ]


async def ranked_page_json(
    conn: asyncpg.Connection,
    *,
    currency: str,
    words: list[QueryWord],
    offset: int,
    limit: int,
    candidates: int = CANDIDATES,
    suggestions: bool = False,
) -> str:
    """The page of products the looked-up `words` find, best first; as id and name only
    for `suggestions`."""
    queries = tiers(words)
    if not queries:
        return NO_SUGGESTIONS if suggestions else EMPTY_PAGE
    item = SUGGESTION_JSON if suggestions else PRODUCT_JSON
    page: str = await conn.fetchval(
        ranked_sql(len(queries), item, paged=not suggestions),
        currency, candidates, offset, limit, *queries,
    )  # fmt: skip
    return page


async def search_page_json(
    conn: asyncpg.Connection, *, currency: str, query: str, offset: int, limit: int
) -> str:
    words = await look_up_words(conn, query=query)
    return await ranked_page_json(conn, currency=currency, words=words, offset=offset, limit=limit)
