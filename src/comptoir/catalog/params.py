"""The catalog's query parameters: known names only, attribute filters, sort cursors.

Unknown parameters are a 422 on the catalog's routes (a misspelled `?sort=price` or
`?min_prize=` would otherwise silently show something else than asked).
"""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request

from comptoir.catalog.queries import ORDERS
from comptoir.errors import Unprocessable
from comptoir.pagination import EPOCH, bad_cursor

ATTR = "attr."
MAX_ATTRIBUTE_FILTERS = 10
ATTRIBUTE_KEY = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# Sort cursors hold a name (base64url of up to 800 bytes): longer than other lists' cursors.
SortCursor = Annotated[
    str | None,
    Query(max_length=1200, description="The `next_cursor` of the previous page, same sort."),
]


def _unknown(names: list[str]) -> Unprocessable:
    return Unprocessable(
        f"Unknown query parameter(s): {', '.join(sorted(names))}.",
        errors=[
            {"loc": ["query", n], "msg": "unknown parameter", "type": "extra_forbidden"}
            for n in sorted(names)
        ],
    )


def _refuse_unknown(request: Request, allowed: frozenset[str], attributes: bool) -> None:
    unknown = [
        k
        for k in request.query_params
        if k not in allowed and not (attributes and k.startswith(ATTR))
    ]
    if unknown:
        raise _unknown(unknown)


def known_parameters(*names: str) -> Any:
    """A route dependency that refuses query parameters other than `names`."""
    allowed = frozenset(names)

    # `async def`, as every dependency here: FastAPI runs a plain `def` in a worker thread,
    # a thread hop per request (it cost the catalog page a tenth of its rate).
    async def check(request: Request) -> None:
        _refuse_unknown(request, allowed, attributes=False)

    return Depends(check)


def known_parameters_and_attributes(*names: str) -> Any:
    """A route dependency that refuses query parameters other than `names` and
    `attr.<key>`, and answers the attribute filters: one dependency rather than two on the
    catalog's page, the route a shop serves most."""
    allowed = frozenset(names)

    async def check(request: Request) -> list[list[dict[str, Any]]]:
        _refuse_unknown(request, allowed, attributes=True)
        return attribute_filters(request)

    return Depends(check)


def _bad_attribute(key: str, msg: str) -> Unprocessable:
    return Unprocessable(
        f"Attribute filter {key!r}: {msg}.",
        errors=[{"loc": ["query", key], "msg": msg, "type": "value_error"}],
    )


def _as_json_values(text: str) -> list[Any]:
    """What `text` may stand for in an attributes object: the string, and the number or
    boolean it spells (`attr.size=42` finds 42 and "42")."""
    values: list[Any] = [text]
    if text in ("true", "false"):
        values.append(text == "true")
    else:
        try:
            number = json.loads(text)
        except ValueError:
            number = None
        if isinstance(number, int | float) and not isinstance(number, bool):
            values.append(number)
    return values


def attribute_filters(request: Request) -> list[list[dict[str, Any]]]:
    """`attr.<key>=<value>` parameters as containment alternatives: per key, any of its
    values (repeat the parameter for "red or blue"), as a value or in a list of values;
    different keys must all match."""
    by_key: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if not name.startswith(ATTR):
            continue
        key = name[len(ATTR) :]
        if not key or len(key) > 64 or not set(key) <= ATTRIBUTE_KEY:
            raise _bad_attribute(name, "keys are 1-64 letters, digits, _ or -")
        if not 1 <= len(value) <= 200:
            raise _bad_attribute(name, "values are 1-200 characters")
        by_key.setdefault(key, []).append(value)
    if sum(len(v) for v in by_key.values()) > MAX_ATTRIBUTE_FILTERS:
        raise _bad_attribute(ATTR + "*", f"at most {MAX_ATTRIBUTE_FILTERS} attribute values")
    return [
        [{key: form} for text in texts for v in _as_json_values(text) for form in (v, [v])]
        for key, texts in by_key.items()
    ]


def _decoders() -> dict[str, Callable[[str], object]]:
    def moment(text: str) -> object:
        return EPOCH + timedelta(microseconds=int(text))

    def name(text: str) -> object:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()

    return {"timestamptz": moment, "numeric": Decimal, "text": name, "int": int}


DECODE = _decoders()


def decode_sort_cursor(cursor: str, sort: str) -> tuple[object, UUID]:
    """A keyset cursor of `sort`: `<tag><value>.<id>` as keyset_page_sql writes it."""
    order = ORDERS[sort]
    if not cursor.startswith(order.tag):
        raise bad_cursor()
    try:
        value, ident = cursor[len(order.tag) :].rsplit(".", 1)
        return DECODE[order.cast](value), UUID(ident)
    except (ValueError, OverflowError, InvalidOperation, binascii.Error, UnicodeDecodeError):
        raise bad_cursor() from None
