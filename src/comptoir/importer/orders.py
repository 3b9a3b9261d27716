"""A legacy order → its staging row and lines, or `Unusable` naming every problem it has.

Orders are where stores differ most: the customer as an id, an embedded copy of the user,
or a guest's `customer: {fullName, email}`; lines with a price each, or only a total, or
naming a product by its title; the shop's own status words. A guest order (no account,
an email) belongs to an account for that email, created without a password or merged with
the registered one (staging.GUESTS).
"""

from decimal import Decimal
from typing import Any

from comptoir.importer import fields
from comptoir.importer.aliases import ALIASES, View
from comptoir.importer.fields import Unusable
from comptoir.importer.records import Context, Staged, _key, _lines, _money, _view, source_form
from comptoir.importer.sources import Record

# The four statuses, and the words shops used for them (docs/import.md prints this table;
# the mapping file's [statuses] adds to it and wins).
STATUSES = {
    "pending": "pending", "new": "pending", "created": "pending", "placed": "pending",
    "open": "pending", "on-hold": "pending", "on_hold": "pending", "onhold": "pending",
    "awaiting": "pending", "awaiting-payment": "pending", "unpaid": "pending",
    "paid": "paid", "confirmed": "paid", "processing": "paid", "accepted": "paid",
    "shipped": "shipped", "dispatched": "shipped", "delivered": "shipped", "complete": "shipped",
    "completed": "shipped", "fulfilled": "shipped", "in_transit": "shipped",
    "in-transit": "shipped", "done": "shipped",
    "cancelled": "cancelled", "canceled": "cancelled", "cancel": "cancelled",
    "refunded": "cancelled", "failed": "cancelled", "rejected": "cancelled",
    "void": "cancelled",
}  # fmt: skip


def status(value: Any, ctx: Context, notes: set[str]) -> str:
    if isinstance(value, dict):  # {"state": "pending", "updatedAt": ...}
        value = value.get("state") or value.get("status") or value.get("name")
    if value is None or value == "":
        if ctx.mapping.default_status:
            return ctx.mapping.default_status
        notes.add("no status: pending (set default_status in the mapping file)")
        return "pending"
    word = str(value).strip().lower()
    found = ctx.mapping.statuses.get(word) or STATUSES.get(word)
    if found is None:
        shown = str(value)[:40]
        raise Unusable(
            f'unknown status "{shown}": add [statuses] "{word}" = "shipped" (or pending, paid,'
            " cancelled) to the mapping file"
        )
    return found


def order(record: Record, ctx: Context) -> Staged:
    if isinstance(record.value, list):  # an object of line lists keyed by user
        view = View({"items": record.value}, ALIASES["orders"], {})
    else:
        view = _view(record, "orders", ctx)
    notes: set[str] = set()
    problems: list[str] = []
    user_key, guest = _customer(view, record, problems)
    raw, fingerprint = source_form(record.value)
    key = _key(view, record) or "#" + fingerprint[:16]  # no id: its content names it
    try:
        word = status(view.get("status"), ctx, notes)
    except Unusable as reason:
        problems.append(str(reason))
    when = view.get("created_at")
    created_at = None
    if when is not None:
        try:
            created_at = fields.moment(when)
        except Unusable:
            problems.append(f"unusable date {str(when)[:40]!r} in {view.field('created_at')}")
    else:
        notes.add("no date: the import's time used")
    items = view.get("lines")
    product_fields: dict[str, tuple[str, ...]] = {
        "product": ("productid", "itemid", "product", "sku")
    }
    if items is None and View(view.record, product_fields, {}).field("product"):
        items = [view.record]  # a one-line order: the product and quantity on the order
    lines = _lines(items, ctx, notes, problems, priced=True)
    merged: dict[str, tuple[int, Decimal | None]] = {}
    for product_key, count, price in lines:
        if product_key in merged:
            if merged[product_key][1] != price:
                problems.append("same product twice at different prices")
                break
            notes.add("same product twice in an order: lines merged")
            count = min(merged[product_key][0] + count, fields.MAX_INT)
        merged[product_key] = (count, price)
    try:
        stated = _money(view, "total", ctx, set())
    except Unusable:
        stated = None
    if problems:
        raise Unusable("; ".join(problems))
    intent = fields.text(view.get("payment_intent"), notes) or None
    row = (key, user_key, word, None, stated, intent, created_at, raw, fingerprint)
    staged = [(product_key, count, price) for product_key, (count, price) in merged.items()]
    return Staged(row, staged, notes, guest=guest)


def _customer(
    view: View, record: Record, problems: list[str]
) -> tuple[str | None, tuple[str, str | None] | None]:
    """The order's account key, and the guest's (email, name) when it has no account."""
    customer = view.get("user")
    if isinstance(customer, dict):  # an embedded user, or a guest's details
        inner = View(customer, ALIASES["users"], {})
        if (key := fields.legacy_id(inner.get("id"))) is not None:
            return key, None
        email, name = inner.get("email"), inner.get("name")
    else:
        if (key := fields.legacy_id(customer) or fields.legacy_id(record.key)) is not None:
            return key, None
        email, name = view.get("email"), view.get("name")
    try:
        address = fields.email(email, set())
    except Unusable:
        problems.append(view.missing("user", "orders") + " (or a guest's email)")
        return None, None
    return f"guest:{address}", (address, str(name) if name else None)
