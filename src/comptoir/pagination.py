"""Cursor pagination shared by every list: `?limit=` (default 20, max 100) and `?cursor=`.

Cursors are opaque to clients. Keyset cursors hold the sort key of the last row returned,
so a page never repeats or skips a row while rows are being added.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel

from comptoir.errors import Unprocessable

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1-100).")]
Cursor = Annotated[
    str | None,
    Query(max_length=400, description="The `next_cursor` of the previous page."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def bad_cursor() -> Unprocessable:
    return Unprocessable(
        "The cursor is not valid: pass back a next_cursor exactly as received.",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
    )


def decode_time_id(cursor: str) -> tuple[datetime, UUID]:
    """A (created_at, id) keyset cursor, written by SQL as `<epoch microseconds>.<uuid>`."""
    try:
        micros, ident = cursor.split(".", 1)
        return EPOCH + timedelta(microseconds=int(micros)), UUID(ident)
    except (ValueError, OverflowError):
        raise bad_cursor() from None


def decode_offset(cursor: str, *, most: int) -> int:
    try:
        offset = int(cursor)
    except ValueError:
        raise bad_cursor() from None
    if not 0 < offset <= most:
        raise bad_cursor()
    return offset


class Arguments:
    """The positional arguments of a statement built from the filters asked for: each added
    value gets the next `$n`."""

    def __init__(self, *fixed: object) -> None:
        self.values: list[object] = list(fixed)

    def add(self, value: object, cast: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}"


def cursor_of(alias: str) -> str:
    """The keyset cursor of a row: `<epoch microseconds of created_at>.<id>`."""
    return f"(extract(epoch FROM {alias}.created_at) * 1000000)::bigint || '.' || {alias}.id"


def newest_first(
    args: Arguments,
    *,
    source: str,
    alias: str,
    where: list[str],
    item: str,
    after: tuple[datetime, UUID] | None,
    limit: int,
    order: str | None = None,
) -> str:
    """The one keyset page of every list: rows of `source` (`products AS p`) matching
    `where`, newest first on (created_at, id), at most `limit`, as
    `{"items": [item, ...], "next_cursor": ...}` built by PostgreSQL.

    Only the filters asked for are in the WHERE, so that each combination is its own
    statement with its own plan and its own index (no `$n IS NULL OR ...`, which one plan
    must serve for every combination). The cursor's bound `created_at <= $t` is written out
    besides the row comparison: it is what an index on (..., created_at DESC) can seek to.
    `order` is the expression the index sorts by when it is not `created_at` itself but
    sorts alike (the events' `timezone('UTC', created_at)`); it gets the cursor's bound too.
    One more row than the page is read to tell whether another page follows.
    """
    a = alias
    clauses = list(where)
    if after is not None:
        at, ident = args.add(after[0], "timestamptz"), args.add(after[1], "uuid")
        clauses.append(f"{a}.created_at <= {at} AND ({a}.created_at, {a}.id) < ({at}, {ident})")
        if order is not None:
            clauses.append(f"{order} <= timezone('UTC', {at})")
    size = args.add(limit, "int")
    return f"""
WITH page AS MATERIALIZED (
    SELECT {a}.*, row_number() OVER (ORDER BY {a}.created_at DESC, {a}.id DESC) AS n
    FROM (
        SELECT {a}.* FROM {source}
        WHERE {" AND ".join(clauses) or "true"}
        ORDER BY {order or f"{a}.created_at"} DESC, {a}.id DESC
        LIMIT {size} + 1
    ) AS {a}
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg({item} ORDER BY {a}.n) FROM page AS {a} WHERE {a}.n <= {size}),
        '[]'::json),
    'next_cursor',
        (SELECT {cursor_of(a)} FROM page AS {a}
         WHERE {a}.n = {size} AND EXISTS (SELECT 1 FROM page WHERE n = {size} + 1)))::text
"""
