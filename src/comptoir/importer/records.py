"""One legacy record → its staging rows, or `Unusable` with the reason it is rejected.

Only what a record says about itself is decided here (dates, prices, statuses, lines);
what depends on other records (duplicate ids, unknown users and products, merged
accounts, payment intents used twice) is decided in SQL, set-based, in `staging.py`.
The staging tuples follow the column order of the staging tables there.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from comptoir.auth.security import BCRYPT_PREFIXES
from comptoir.importer import fields
from comptoir.importer.fields import Unusable

MASK = "********"
ROLES = {"admin": "admin", "customer": "customer", "user": "customer"}
STATUSES = {
    "pending": "pending",
    "paid": "paid",
    "shipped": "shipped",
    "complete": "shipped",
    "completed": "shipped",
    "delivered": "shipped",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


@dataclass
class Staged:
    row: tuple[Any, ...]
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    password: str | None = None  # plain text to hash; never staged


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Unusable("not a JSON object")
    return value


def _required_id(record: dict[str, Any]) -> str:
    if (key := fields.legacy_id(record.get("id"))) is None:
        raise Unusable("no id")
    return key


def masked(value: Any) -> Any:
    """The record as it may be written anywhere: a plain-text password replaced by a mask."""
    if isinstance(value, dict) and value.get("password") is not None:
        return {**value, "password": MASK}
    return value


def _optional_moment(value: Any, notes: set[str]) -> datetime | None:
    """A date the record can do without: when unusable, the import's time stands in."""
    if value is None or value == "":
        return None
    try:
        return fields.moment(value)
    except Unusable:
        notes.add("unusable date: the import's time used")
        return None


def user(ordinal: int, value: Any) -> Staged:
    record = _object(value)
    notes: set[str] = set()
    key = _required_id(record)
    email = fields.email(record.get("email"), notes)
    raw_role = record.get("role")
    role = ROLES.get(str(raw_role).strip().lower()) if raw_role is not None else "customer"
    if role is None:
        notes.add(f"unknown role {str(raw_role)[:40]!r} imported as customer")
        role = "customer"
    stored_hash = record.get("passwordHash")
    plain = record.get("password")
    password_hash = None
    if isinstance(stored_hash, str) and stored_hash.startswith((*BCRYPT_PREFIXES, "$argon2")):
        password_hash = stored_hash
    elif isinstance(plain, str) and plain:
        notes.add("plain-text password hashed with argon2id")
    else:
        plain = None
        notes.add("no usable password: login refused until reset")
    created_at = _optional_moment(record.get("createdAt"), notes)
    raw = json.dumps(masked(record), ensure_ascii=False)
    name = fields.text(record.get("name"), notes)
    row = (ordinal, key, email, password_hash, role, name, created_at, raw)
    return Staged(row, notes=notes, password=plain)


def product(ordinal: int, value: Any) -> Staged:
    record = _object(value)
    notes: set[str] = set()
    key = _required_id(record)
    name = (fields.text(record.get("name"), notes) or "").strip()
    if not name:
        raise Unusable("no name")
    description = fields.text(record.get("description"), notes) or ""
    price = fields.amount(record.get("price"), notes)
    stock = record.get("stock")
    if stock is None:
        notes.add("stock missing: 0")
        stock = 0
    elif isinstance(stock, bool) or not isinstance(stock, int | float) or stock != int(stock):
        notes.add("stock not an integer: 0")
        stock = 0
    elif stock < 0:
        notes.add("negative stock: 0")
        stock = 0
    stock = min(int(stock), fields.MAX_INT)
    active = record.get("active")
    active = True if active is None else bool(active)
    created_at = _optional_moment(record.get("createdAt"), notes)
    deleted_at = _optional_moment(record.get("deletedAt"), notes)
    if deleted_at is None and (record.get("deleted") is True or record.get("deletedAt")):
        deleted_at = created_at or datetime.now(UTC)
    raw = json.dumps(record, ensure_ascii=False)
    row = (ordinal, key, name, description, price, stock, active, created_at, deleted_at, raw)
    return Staged(row, notes=notes)


def cart(ordinal: int, value: Any) -> Staged:
    record = _object(value)
    notes: set[str] = set()
    if (user_key := fields.legacy_id(record.get("userId"))) is None:
        raise Unusable("no user")
    quantities: dict[str, int] = {}
    items = record.get("items")
    for item in items if isinstance(items, list) else []:
        item = item if isinstance(item, dict) else {}
        product_key = fields.legacy_id(item.get("productId"))
        try:
            count = fields.quantity(item.get("quantity", item.get("qty")))
        except Unusable:
            notes.add("cart line with a bad quantity dropped")
            continue
        if product_key is None:
            notes.add("cart line without a product dropped")
            continue
        if product_key in quantities:
            notes.add("same product twice in a cart: quantities summed")
        quantities[product_key] = min(quantities.get(product_key, 0) + count, fields.MAX_INT)
    updated_at = _optional_moment(record.get("updatedAt"), notes)
    raw = json.dumps(record, ensure_ascii=False)
    lines = [(ordinal, product_key, count) for product_key, count in quantities.items()]
    return Staged((ordinal, user_key, updated_at, raw), lines, notes)


def order(ordinal: int, value: Any) -> Staged:
    record = _object(value)
    notes: set[str] = set()
    key = _required_id(record)
    if (user_key := fields.legacy_id(record.get("userId"))) is None:
        raise Unusable("no user")
    raw_status = str(record.get("status") or "").strip().lower()
    if (status := STATUSES.get(raw_status)) is None:
        raise Unusable(f"unknown status {str(record.get('status'))[:40]!r}")
    created_at = fields.moment(record.get("createdAt"))
    items = record.get("items")
    if not isinstance(items, list) or not items:
        raise Unusable("no lines")
    lines: dict[str, tuple[int, Decimal]] = {}
    for item in items:
        item = _object(item)
        if (product_key := fields.legacy_id(item.get("productId"))) is None:
            raise Unusable("line without a product")
        count = fields.quantity(item.get("quantity", item.get("qty")))
        unit_price = fields.amount(item.get("unitPrice", item.get("price")), notes)
        if product_key in lines:
            if lines[product_key][1] != unit_price:
                raise Unusable("same product twice at different prices")
            notes.add("same product twice in an order: lines merged")
            count = min(lines[product_key][0] + count, fields.MAX_INT)
        lines[product_key] = (count, unit_price)
    total = sum((count * price for count, price in lines.values()), Decimal("0.00"))
    if total > fields.MAX_AMOUNT:
        raise Unusable("total too large")
    try:
        stated: Decimal | None = fields.amount(record.get("total"), set())
    except Unusable:
        stated = None
    if stated != total:
        notes.add("total differs from its lines: lines win")
    intent = fields.text(record.get("paymentIntentId"), notes) or None
    raw = json.dumps(record, ensure_ascii=False)
    row = (ordinal, key, user_key, status, total, stated, intent, created_at, raw)
    staged_lines = [(ordinal, p, count, price) for p, (count, price) in lines.items()]
    return Staged(row, staged_lines, notes)


def lead(ordinal: int, value: Any) -> Staged:
    record = _object(value)
    notes: set[str] = set()
    email = (fields.text(record.get("email"), notes) or "").strip()
    if not email:
        raise Unusable("no email")
    key = fields.legacy_id(record.get("id"))
    name = fields.text(record.get("name"), notes) or ""
    message = fields.text(record.get("message"), notes) or ""
    created_at = _optional_moment(record.get("createdAt"), notes)
    raw = json.dumps(record, ensure_ascii=False)
    return Staged((ordinal, key, name, email, message, created_at, raw), notes=notes)


def event(ordinal: int, value: Any, raw: str | None) -> Staged:
    """Events are most of a store, so the record goes to PostgreSQL as it is (as jsonb)
    and the payload is taken out of it there; only what decides a reject is read here."""
    record = _object(value)
    notes: set[str] = set()
    event_type = fields.text(record.get("type", record.get("event")), notes)
    if event_type is None or not event_type.strip():
        raise Unusable("no event type")
    if len(event_type) > 100:
        raise Unusable("event type longer than 100 characters")
    created_at = fields.moment(record.get("createdAt", record.get("timestamp")))
    payload = record.get("payload", record.get("data"))
    if payload is not None and not isinstance(payload, dict):
        notes.add("payload not an object: wrapped as {value: ...}")
    document = raw if raw is not None else json.dumps(record, ensure_ascii=False)
    if "\\u0000" in document:
        notes.add("NUL characters removed")
        document = json.dumps(_without_nul(record), ensure_ascii=False)
    key = fields.legacy_id(record.get("id"))
    user_key = fields.legacy_id(record.get("userId"))
    return Staged((ordinal, key, event_type, user_key, created_at, document), notes=notes)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value
