"""SQL of the catalog.

The customer-facing reads build their JSON inside PostgreSQL (json_build_object, json_agg)
and hand it to the response as it is: no rows decoded into Python objects, no Pydantic
validation, no re-encoding — that is most of a naive handler's time.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from comptoir.errors import Conflict
from comptoir.pagination import Arguments

# $1 is always the shop's currency. Money as text keeps its two places: numeric(12,2)
# prints as "19.90", never as a float.
FIELDS = """
    'id', p.id, 'name', p.name, 'description', p.description, 'price', p.price::text,
    'compare_at_price', p.compare_at_price::text, 'currency', $1::text, 'stock', p.stock,
    'active', p.active, 'sku', p.sku, 'images', to_json(p.images),
    'attributes', p.attributes, 'created_at', p.created_at, 'updated_at', p.updated_at,
    'deleted_at', p.deleted_at"""
PRODUCT_JSON = f"json_build_object({FIELDS})"
STATE = (
    "CASE WHEN p.deleted_at IS NOT NULL THEN 'deleted'"
    " WHEN p.active THEN 'active' ELSE 'inactive' END"
)
ADMIN_PRODUCT_JSON = f"json_build_object({FIELDS}, 'state', {STATE})"

VISIBLE = "p.active AND p.deleted_at IS NULL"


class SkuTaken(Conflict):
    def __init__(self, sku: str) -> None:
        super().__init__(
            f"The SKU {sku!r} is already used by another product (SKUs ignore case).",
            errors=[{"loc": ["body", "sku"], "msg": "SKU already used", "type": "conflict"}],
        )


def _sku_taken(exc: asyncpg.UniqueViolationError, sku: object) -> Exception:
    if exc.constraint_name == "products_sku_key":
        return SkuTaken(str(sku))
    return exc


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


# What admins write, in the order of the INSERT's columns.
EDITABLE = (
    "name", "description", "price", "stock", "active", "images", "attributes", "sku",
    "compare_at_price",
)  # fmt: skip
CASTS = {
    "attributes": "jsonb",
    "images": "text[]",
    "price": "numeric",
    "compare_at_price": "numeric",
}


def _bound(column: str, n: int) -> str:
    return f"${n}::{CASTS[column]}" if column in CASTS else f"${n}"


def _value(column: str, value: Any) -> Any:
    # asyncpg sends jsonb as text.
    return json.dumps(value) if column == "attributes" else value


async def insert_product_json(
    conn: asyncpg.Connection, *, currency: str, product: dict[str, Any]
) -> str:
    """Insert a product from `product` (keys of EDITABLE; the table's defaults for the
    others)."""
    columns = [c for c in EDITABLE if c in product]
    values = ", ".join(_bound(c, i) for i, c in enumerate(columns, start=2))
    try:
        row: str = await conn.fetchval(
            f"WITH p AS (INSERT INTO products ({', '.join(columns)}) VALUES ({values})"
            f" RETURNING *) SELECT {PRODUCT_JSON} FROM p",
            currency,
            *(_value(c, product[c]) for c in columns),
        )
    except asyncpg.UniqueViolationError as exc:
        raise _sku_taken(exc, product.get("sku")) from None
    return row


async def update_product_json(
    conn: asyncpg.Connection, *, currency: str, product_id: UUID, changes: dict[str, Any]
) -> str | None:
    """Apply `changes` (a subset of EDITABLE) to a product that is not deleted."""
    columns = [c for c in EDITABLE if c in changes]
    assignments = ", ".join(f"{c} = {_bound(c, i)}" for i, c in enumerate(columns, start=3))
    try:
        row: str | None = await conn.fetchval(
            f"WITH p AS (UPDATE products SET {assignments or 'id = id'}"
            " WHERE id = $2 AND deleted_at IS NULL RETURNING *)"
            f" SELECT {PRODUCT_JSON} FROM p",
            currency,
            product_id,
            *(_value(c, changes[c]) for c in columns),
        )
    except asyncpg.UniqueViolationError as exc:
        raise _sku_taken(exc, changes.get("sku")) from None
    return row


async def soft_delete_product(conn: asyncpg.Connection, *, product_id: UUID) -> bool:
    deleted: UUID | None = await conn.fetchval(
        "UPDATE products SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id",
        product_id,
    )
    return deleted is not None


@dataclass(frozen=True)
class Restored:
    product: str


@dataclass(frozen=True)
class NotDeleted:
    pass


@dataclass(frozen=True)
class NoSuchProduct:
    pass


async def restore_product_json(
    conn: asyncpg.Connection, *, currency: str, product_id: UUID
) -> Restored | NotDeleted | NoSuchProduct:
    """Undo a soft delete. The SKU index spans deleted products, so this never collides."""
    row = await conn.fetchrow(
        f"""WITH target AS (SELECT id, deleted_at FROM products WHERE id = $2 FOR UPDATE),
        p AS (UPDATE products AS p SET deleted_at = NULL FROM target
              WHERE p.id = target.id AND target.deleted_at IS NOT NULL RETURNING p.*)
        SELECT (SELECT true FROM target) AS found, (SELECT {PRODUCT_JSON} FROM p) AS product""",
        currency,
        product_id,
    )
    assert row is not None  # the SELECT without FROM always returns its row
    if row["product"] is not None:
        return Restored(row["product"])
    return NotDeleted() if row["found"] else NoSuchProduct()


# ----------------------------------------------------------------- browse
#
# One keyset page per sort, on (sort key, id), built for the filters asked for only, so that
# each combination is its own statement with its own plan (no `$n IS NULL OR ...`). Each
# public sort walks a partial index over the visible products in its own order (newest:
# products(active, created_at DESC); price: (price, id); name: (name, id)); filters are
# conditions on the rows the walk meets, or, for an attribute value few products have, a
# bitmap of the attributes' GIN index that the planner prefers when it is cheaper.


@dataclass(frozen=True)
class Order:
    """A sort: the column the keyset walks, its direction, the type of its cursor value and
    how a row's value is written in a cursor (`tag` + text)."""

    column: str
    descending: bool
    cast: str
    tag: str
    text: str  # SQL: the value as cursor text, from the row `p`


BASE64URL = "translate(encode(convert_to({}, 'UTF8'), 'base64'), E'+/=\\n', '-_')"
ORDERS = {
    "newest": Order("created_at", True, "timestamptz", "",
                    "(extract(epoch FROM p.created_at) * 1000000)::bigint::text"),
    "price_asc": Order("price", False, "numeric", "price:", "p.price::text"),
    "price_desc": Order("price", True, "numeric", "price:", "p.price::text"),
    "name": Order("name", False, "text", "name:", BASE64URL.format("p.name")),
    "stock": Order("stock", False, "int", "stock:", "p.stock::text"),
}  # fmt: skip

# A count past this is "at least COUNT_CAP": counting every match of a broad filter would
# cost as much as reading it.
COUNT_CAP = 1000


@dataclass(frozen=True)
class Filters:
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    # One entry per attribute filter: the objects any of which the attributes must contain.
    contains: list[list[dict[str, Any]]] = field(default_factory=list)

    def clauses(self, args: Arguments) -> list[str]:
        said = []
        if self.min_price is not None:
            said.append(f"p.price >= {args.add(self.min_price, 'numeric')}")
        if self.max_price is not None:
            said.append(f"p.price <= {args.add(self.max_price, 'numeric')}")
        if self.in_stock:
            said.append("p.stock > 0")
        for alternatives in self.contains:
            docs = [json.dumps(d) for d in alternatives]
            said.append(f"p.attributes @> ANY ({args.add(docs, 'jsonb[]')})")
        return said


def keyset_page_sql(
    args: Arguments,
    *,
    where: list[str],
    order: Order,
    after: tuple[object, UUID] | None,
    limit: int,
    item: str,
    counted: bool,
) -> str:
    """`{"items": [...], "next_cursor": ..., "count": {...}}` of products `p` matching
    `where`, in `order`, after the cursor's row. The cursor's bound on the sort key alone is
    written out besides the row comparison: it is what the index seeks to."""
    column, sign = f"p.{order.column}", "<" if order.descending else ">"
    direction = "DESC" if order.descending else "ASC"
    clauses = list(where)
    if after is not None:
        at, ident = args.add(after[0], order.cast), args.add(after[1], "uuid")
        clauses.append(f"{column} {sign}= {at} AND ({column}, p.id) {sign} ({at}, {ident})")
    size = args.add(limit, "int")
    count = ""
    if counted:
        cap = args.add(COUNT_CAP, "int")
        counting = (
            # Everything on sale: one row, kept by triggers (revision 0018).
            "SELECT visible_products AS n FROM catalog_counts"
            if where == [VISIBLE]
            else f"""SELECT count(*) AS n FROM (
                SELECT FROM products AS p WHERE {" AND ".join(where) or "true"}
                LIMIT {cap} + 1) AS c"""
        )
        count = f""", 'count', (
            SELECT json_build_object('value', least(n, {cap}), 'exact', n <= {cap})
            FROM ({counting}) AS c)"""
    return f"""
WITH page AS MATERIALIZED (
    SELECT p.*, row_number() OVER (ORDER BY {column} {direction}, p.id {direction}) AS n
    FROM (
        SELECT p.* FROM products AS p
        WHERE {" AND ".join(clauses) or "true"}
        ORDER BY {column} {direction}, p.id {direction}
        LIMIT {size} + 1
    ) AS p
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg({item} ORDER BY p.n) FROM page AS p WHERE p.n <= {size}),
        '[]'::json),
    'next_cursor',
        (SELECT '{order.tag}' || {order.text} || '.' || p.id FROM page AS p
         WHERE p.n = {size} AND EXISTS (SELECT 1 FROM page WHERE n = {size} + 1))
    {count})::text
"""


async def browse_page_json(
    conn: asyncpg.Connection,
    *,
    currency: str,
    sort: str,
    filters: Filters,
    after: tuple[object, UUID] | None,
    limit: int,
) -> str:
    """Visible products, sorted and filtered, with their count."""
    args = Arguments(currency)
    where = [VISIBLE, *filters.clauses(args)]
    sql = keyset_page_sql(
        args, where=where, order=ORDERS[sort], after=after, limit=limit, item=PRODUCT_JSON,
        counted=True,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page


STATES = {
    "active": "p.active AND p.deleted_at IS NULL",
    "inactive": "NOT p.active AND p.deleted_at IS NULL",
    "deleted": "p.deleted_at IS NOT NULL",
}


async def list_admin_page_json(
    conn: asyncpg.Connection,
    *,
    currency: str,
    state: str | None,
    name_part: str | None,
    sort: str,
    after: tuple[object, UUID] | None,
    limit: int,
) -> str:
    """Every product with its state, for the back office. A name fragment is a substring
    match, case-insensitive, that the trigram index on the name serves."""
    args = Arguments(currency)
    where = [STATES[state]] if state else []
    if name_part:
        escaped = name_part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(f"p.name ILIKE '%' || {args.add(escaped, 'text')} || '%'")
    sql = keyset_page_sql(
        args, where=where, order=ORDERS[sort], after=after, limit=limit,
        item=ADMIN_PRODUCT_JSON, counted=False,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page
