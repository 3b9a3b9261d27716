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
