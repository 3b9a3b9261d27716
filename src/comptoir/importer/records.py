"""One legacy record → its staging rows, or `Unusable` naming every problem it has.

Fields are read through the aliases and the mapping file (aliases.View). Only what a record
says about itself is decided here (dates, prices, statuses, lines); what depends on other
records (duplicate ids, unknown users and products, merged accounts, payment intents used
twice) is decided in SQL, set-based, in `staging.py`. The staging tuples follow the column
order of the staging tables there; each ends with the record's source form (secrets masked)
and the fingerprint of the record as read, which a cutover import compares.
"""

import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from argon2 import PasswordHasher

from comptoir.importer import fields, passwords
from comptoir.importer.aliases import ALIASES, CENTS, View, norm
from comptoir.importer.fields import Unusable
from comptoir.importer.mapping import Mapping
from comptoir.importer.sources import Record

MASK = "********"
SECRETS = ("password", "passwd", "pwd", "hash", "salt", "token", "secret", "apikey")
ROLES = {"admin": "admin", "customer": "customer", "user": "customer"}
NO_EMAIL_DOMAIN = "no-email.invalid"  # .invalid is reserved: it can never receive mail


@dataclass
class Staged:
    row: tuple[Any, ...]
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    password: passwords.Password | None = None
    guest: tuple[str, str | None] | None = None  # (email, name) of a guest order


@dataclass(frozen=True)
class Context:
    mapping: Mapping
    hasher: PasswordHasher


def masked(value: Any) -> Any:
    """The record as it may be written anywhere: passwords, hashes, salts, tokens masked."""
    if isinstance(value, dict):
        return {k: MASK if _secret(k) and v not in (None, "") else masked(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


@cache  # a store has few field names and many records: each name is judged once
def _secret(name: str) -> bool:
    key = norm(str(name))
    return any(word in key for word in SECRETS)


def source_form(value: Any) -> tuple[str, str]:
    """The masked JSON kept for support, and the fingerprint of the record as read."""
    exact = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    shown = orjson.dumps(masked(value), default=str).decode()
    return shown.replace("\\u0000", ""), hashlib.md5(exact, usedforsecurity=False).hexdigest()


def _view(record: Record, collection: str, ctx: Context) -> View:
    if not isinstance(record.value, dict):
        raise Unusable("not a JSON object")
    return View(record.value, ALIASES[collection], ctx.mapping.fields_of(collection))


def _key(view: View, record: Record, canonical: str = "id") -> str | None:
    return fields.legacy_id(view.get(canonical)) or fields.legacy_id(record.key)


def _money(view: View, canonical: str, ctx: Context, notes: set[str]) -> Decimal | None:
    cents_field = f"{canonical}_cents"
    value = view.get(cents_field) if cents_field in CENTS | {"price_cents"} else None
    in_cents = value is not None or ctx.mapping.cents
    if value is None:
        value = view.get(canonical)
    if value is None:
        return None
    amount = fields.amount(value, notes, cents=in_cents)
    return amount


def _moment(value: Any, notes: set[str], what: str = "date") -> datetime | None:
    """A date the record can do without: missing or unusable, the import's time stands in."""
    if value is None or value == "":
        return None
    try:
        return fields.moment(value)
    except Unusable:
        notes.add(f"unusable {what}: the import's time used")
        return None


def user(record: Record, ctx: Context) -> Staged:
    view = _view(record, "users", ctx)
    notes: set[str] = set()
    problems: list[str] = []
    username = fields.text(view.get("username"), notes)
    raw_email = view.get("email")
    if raw_email is None and username and username.strip():
        slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in username.strip().lower())
        raw_email = f"{slug}@{NO_EMAIL_DOMAIN}"
        notes.add(f"no email: the username kept as <username>@{NO_EMAIL_DOMAIN}")
    email = None
    try:
        email = fields.email(raw_email, notes)
    except Unusable as reason:
        problems.append(view.missing("email", "users") if raw_email is None else str(reason))
    key = _key(view, record) or email
    role = _role(view, notes)
    password = passwords.read(view.get("password"), view.get("salt"), ctx.mapping.passwords,
                              ctx.hasher)  # fmt: skip
    notes.add(password.note)
    name = fields.text(view.get("name"), notes)
    if name is None and (first := view.get("first_name")) is not None:
        name = " ".join(str(part) for part in (first, view.get("last_name")) if part)
    if name is None:
        name = username
    created_at = _moment(view.get("created_at"), notes)
    if problems:
        raise Unusable("; ".join(problems))
    raw, fingerprint = source_form(record.value)
    row = (key, email, password.stored, role, name, created_at, raw, fingerprint)
    return Staged(row, notes=notes, password=password)


def _role(view: View, notes: set[str]) -> str:
    admin = view.get("is_admin")
    if admin is not None:
        return (
            "admin" if admin is True or str(admin).lower() in ("true", "1", "yes") else "customer"
        )
    raw_role = view.get("role")
    if raw_role is None:
        return "customer"
    role = ROLES.get(str(raw_role).strip().lower())
    if role is None:
        notes.add(f"unknown role {str(raw_role)[:40]!r} imported as customer")
    return role or "customer"


def product(record: Record, ctx: Context) -> Staged:
    view = _view(record, "products", ctx)
    notes: set[str] = set()
    problems: list[str] = []
    name = html.unescape(fields.text(view.get("name"), notes) or record.key or "").strip()
    if not name:
        problems.append(view.missing("name", "products"))
    key = _key(view, record) or name or None
    description = html.unescape(fields.text(view.get("description"), notes) or "")
    price = None
    try:
        price = _money(view, "price", ctx, notes)
        if price is None:
            problems.append(view.missing("price", "products"))
    except Unusable as reason:
        problems.append(str(reason))
    stock = _stock(view.get("stock"), notes)
    active = _active(view.get("active"))
    created_at = _moment(view.get("created_at"), notes)
    deleted_at = _moment(view.get("deleted_at"), notes)
    if problems:
        raise Unusable("; ".join(problems))
    attributes = orjson.dumps(masked(view.rest()), default=str).decode().replace("\\u0000", "")
    raw, fingerprint = source_form(record.value)
    row = (key, name, description, price, stock, active, created_at, deleted_at, attributes,
           raw, fingerprint)  # fmt: skip
    return Staged(row, notes=notes)


def _stock(stock: Any, notes: set[str]) -> int:
    if isinstance(stock, str) and stock.strip().lstrip("-").isdigit():
        stock = int(stock)
    if stock is None:
        notes.add("stock missing: 0")
        return 0
    if isinstance(stock, bool) or not isinstance(stock, int | float) or stock != int(stock):
        notes.add("stock not an integer: 0")
        return 0
    if stock < 0:
        notes.add("negative stock: 0")
        return 0
    return min(int(stock), fields.MAX_INT)


def _active(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in ("active", "published", "enabled", "true", "1", "yes",
                                         "available", "visible", "on")  # fmt: skip
    return bool(value)


def cart(record: Record, ctx: Context) -> Staged:
    view = _view(record, "carts", ctx) if isinstance(record.value, dict) else None
    notes: set[str] = set()
    user_key = fields.legacy_id(view.get("user")) if view else None
    user_key = user_key or fields.legacy_id(record.key)
    problems = [] if user_key else [
        view.missing("user", "carts") if view else "no user"]  # fmt: skip
    items = view.get("lines") if view else record.value
    if items in (None, [], {}):
        notes.add("empty cart")
        items = None
    lines = _lines(items, ctx, notes, problems, priced=False) if items is not None else []
    if problems:
        raise Unusable("; ".join(problems))
    updated_at = _moment(view.get("updated_at"), notes) if view else None
    raw, fingerprint = source_form(record.value)
    quantities: dict[str, int] = {}
    for product_key, count, _ in lines:
        if product_key in quantities:
            notes.add("same product twice in a cart: quantities summed")
        quantities[product_key] = min(quantities.get(product_key, 0) + count, fields.MAX_INT)
    staged = [(key, count) for key, count in quantities.items()]
    return Staged((user_key, updated_at, raw, fingerprint), staged, notes)


def _lines(
    items: Any, ctx: Context, notes: set[str], problems: list[str], *, priced: bool
) -> list[tuple[str, int, Decimal | None]]:
    """Order or cart lines: a list of line objects, or an object of product → quantity."""
    if isinstance(items, dict):
        items = [{"product": name, "quantity": count} for name, count in items.items()]
    if not isinstance(items, list) or not items:
        problems.append("no lines (expected items, products, lines, orderItems or cartItems)")
        return []
    found = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            item = {"product": item, "quantity": 1}
        line = View(item, ALIASES["lines"], ctx.mapping.fields_of("lines"))
        product = line.get("product")
        embedded = product if isinstance(product, dict) else {}
        if embedded:
            inner = View(embedded, ALIASES["products"], {})
            product, name = inner.get("id"), inner.get("name")
            price_value = line.get("price") or inner.get("price")
        else:
            name, price_value = line.get("name"), line.get("price")
        product_key = fields.legacy_id(product) or (html.unescape(str(name)) if name else None)
        cents = line.get("price_cents")
        quantity = line.get("quantity")
        try:
            count = fields.quantity(quantity)
        except Unusable as reason:
            if not priced:  # a cart keeps its other lines
                notes.add("cart line with a bad quantity dropped")
                continue
            problems.append(f"line {number}: {reason}")
            continue
        try:
            price = None
            if cents is not None:
                price = fields.amount(cents, notes, cents=True)
            elif price_value is not None:
                price = fields.amount(price_value, notes, cents=ctx.mapping.cents)
        except Unusable as reason:
            problems.append(f"line {number}: {reason}")
            continue
        if product_key is None:
            problems.append(f"line {number}: no product (expected productId, product, itemId,"
                            " or a name or title)")  # fmt: skip
            continue
        found.append((product_key, count, price))
    return found


def order(record: Record, ctx: Context) -> Staged:
    from comptoir.importer.orders import order as read_order  # its own file: it is the longest

    return read_order(record, ctx)


def lead(record: Record, ctx: Context) -> Staged:
    view = _view(record, "leads", ctx)
    notes: set[str] = set()
    email = (fields.text(view.get("email"), notes) or "").strip()
    if not email:
        raise Unusable(view.missing("email", "leads"))
    key = fields.legacy_id(view.get("id")) or fields.legacy_id(record.key)
    name = fields.text(view.get("name"), notes) or ""
    message = fields.text(view.get("message"), notes) or ""
    created_at = _moment(view.get("created_at"), notes)
    raw, fingerprint = source_form(record.value)
    return Staged((key, name, email, message, created_at, raw, fingerprint), notes=notes)


def event(record: Record, ctx: Context) -> Staged:
    """Events are most of a store, so the record goes to PostgreSQL as it is (as jsonb)
    and the payload is taken out of it there; only what decides a reject is read here."""
    value = record.value
    if not isinstance(value, dict):
        raise Unusable("not a JSON object")
    notes: set[str] = set()
    kind = value.get("type") or value.get("event") or value.get("eventType")
    event_type = fields.text(kind, notes)
    if event_type is None or not event_type.strip():
        raise Unusable("no event type (expected type, event or eventType)")
    if len(event_type) > 100:
        raise Unusable("event type longer than 100 characters")
    when = value.get("createdAt", value.get("timestamp"))
    created_at = fields.moment(when if when is not None else value.get("datetime"))
    payload = value.get("payload", value.get("data"))
    if payload is not None and not isinstance(payload, dict):
        notes.add("payload not an object: wrapped as {value: ...}")
    document = record.raw if record.raw is not None else orjson.dumps(value).decode()
    if "\\u0000" in document:
        notes.add("NUL characters removed")
        document = orjson.dumps(_without_nul(value)).decode()
    key = fields.legacy_id(value.get("id"))
    user_key = fields.legacy_id(value.get("userId"))
    return Staged((key, event_type, user_key, created_at, document), notes=notes)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value
