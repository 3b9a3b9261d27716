"""Periods given as `from` and `to` in a query string, as every admin list takes them."""

from datetime import UTC, datetime

from comptoir.errors import Unprocessable


def period(
    since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """`from` and `to` in UTC, `from` before `to`; 422 otherwise."""
    try:
        bounds = (
            since.astimezone(UTC) if since else None,
            until.astimezone(UTC) if until else None,
        )
    except OverflowError:
        raise Unprocessable(
            "`from` and `to` must lie between the years 1 and 9999 in UTC.",
            errors=[{"loc": ["query", "from"], "msg": "out of range", "type": "value_error"}],
        ) from None
    if since is not None and until is not None and since >= until:
        raise Unprocessable(
            "`from` must be before `to`.",
            errors=[{"loc": ["query", "to"], "msg": "not after from", "type": "value_error"}],
        )
    return bounds
