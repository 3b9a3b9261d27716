"""Reading one legacy field: dates, money, quantities, emails and text as the Express app
wrote them. Each reader returns the clean value or raises `Unusable` with the reason a
record carrying it is rejected."""

import math
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # numeric(12,2)
MAX_INT = 2**31 - 1
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
CURRENCY_SIGNS = re.compile(r"^\s*[^\d\s.,-]{1,4}\s*|\s*[^\d\s.,-]{1,4}\s*$")
EPOCH_SECONDS_BELOW = 10**11  # smaller epoch numbers are seconds, larger milliseconds


class Unusable(ValueError):
    """The field cannot be used; the message is the reason given in the report."""


def legacy_id(value: Any) -> str | None:
    """An id as text: 12, 12.0 and "12" are the same record (the app mixed them)."""
    if type(value) is int:  # the common case first: this runs twice per event
        return str(value)
    if value is None or isinstance(value, bool | dict | list):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return repr(value)
        value = int(value)
    text = str(value).strip()
    return text or None


def text(value: Any, notes: set[str]) -> str | None:
    """A string field with the NUL characters PostgreSQL cannot store removed."""
    if value is None:
        return None
    string = value if isinstance(value, str) else str(value)
    if "\x00" in string:
        notes.add("NUL characters removed")
        string = string.replace("\x00", "")
    return string


def moment(value: Any) -> datetime:
    """ISO-8601 with or without a zone (none means UTC), "YYYY-MM-DD HH:MM:SS", or epoch
    milliseconds (seconds below 10^11), as a number or a string of digits."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            stripped = value.strip()
            if stripped.lstrip("-").isdigit():
                return moment(int(stripped))
            try:
                parsed = datetime.fromisoformat(stripped)
            except ValueError:
                raise Unusable("unusable date") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value if abs(value) < EPOCH_SECONDS_BELOW else value / 1000
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise Unusable("unusable date") from None
    raise Unusable("unusable date" if value is not None else "no date")


def amount(value: Any, notes: set[str], *, cents: bool = False) -> Decimal:
    """A price: a number, or a string with "." or "," as decimal mark and maybe a currency
    sign or code ("€12.50", "12,50 EUR"), rounded half-up to cents; with `cents`, an amount
    in cents. Negative, non-numeric or larger than numeric(12,2) holds: unusable."""
    if isinstance(value, bool) or value is None:
        raise Unusable("price is not a number")
    if isinstance(value, int | float):
        literal = repr(value)
    elif isinstance(value, str):
        literal = CURRENCY_SIGNS.sub("", value).replace(" ", "").replace("\u00a0", "")
        if "," in literal and "." in literal:  # "1,234.50" or "1.234,50": the last is decimal
            thousands = "," if literal.rfind(".") > literal.rfind(",") else "."
            literal = literal.replace(thousands, "")
        literal = literal.replace(",", ".")
    else:
        raise Unusable("price is not a number")
    try:
        parsed = Decimal(literal)
    except InvalidOperation:
        raise Unusable("price is not a number") from None
    if not parsed.is_finite():
        raise Unusable("price is not a number")
    if cents:
        parsed = parsed / 100
    if parsed < 0:
        raise Unusable("negative price")
    rounded = parsed.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounded > MAX_AMOUNT:
        raise Unusable("price too large")
    if rounded != parsed:
        notes.add("price rounded to cents")
    return rounded


def quantity(value: Any) -> int:
    """A positive integer (2.0 counts as 2; "2", 0, -1 and 2.5 do not)."""
    if isinstance(value, bool):
        raise Unusable("quantity is not a positive integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_INT:
        raise Unusable("quantity is not a positive integer")
    return value


def email(value: Any, notes: set[str]) -> str:
    """Trimmed and lower-cased, so that " Ann@Shop.com" and "ann@shop.com" are one person."""
    cleaned = (text(value, notes) or "").strip().lower()
    if not cleaned:
        raise Unusable("no email")
    if len(cleaned) > 320 or not EMAIL.match(cleaned):
        raise Unusable("invalid email")
    return cleaned
