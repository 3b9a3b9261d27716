"""Which collection a unit of records is: by the mapping file, by name, or by content.

Names compare without case, separators or a plural `s` (`Users`, `user`, `order-items`);
the synonyms below are what shops called them. Failing a name, the first records decide
(records with a price and a name or title are products, ...). The rule that decided is
kept for the report and `inspect`.
"""

import re
from typing import Any

from comptoir.importer.aliases import ALIASES, norm
from comptoir.importer.discover import Unit

COLLECTIONS = ("users", "products", "carts", "orders", "leads", "analytics")
SKIP = "skip"
SYNONYMS = {
    "users": {"user", "customer", "account", "member", "client", "people", "person"},
    "products": {"product", "item", "catalog", "catalogue", "good", "article", "merchandise",
                 "merch", "listing", "productlist"},
    "carts": {"cart", "basket", "shoppingcart", "cartitem"},
    "orders": {"order", "purchase", "sale", "checkout", "transaction"},
    "leads": {"lead", "contact", "contactmessage", "message", "enquiry", "inquiry",
              "mailinglist", "newsletter", "newsletteremail", "subscriber", "subscription"},
    "analytics": {"analytic", "event", "analyticsevent", "activity", "activitylog", "log",
                  "tracking", "metric"},
}  # fmt: skip
SAMPLE = 20
# What shops keep beside their collections and that looks like one by its content (a
# wishlist holds lines and a user, like a cart): never guessed, always named or skipped.
NOT_GUESSED = {"wishlist", "favorite", "favourite", "favori", "coupon", "address", "review",
               "category", "productcategory", "setting", "config", "session", "giftcard",
               "reward", "notification", "backup"}  # fmt: skip


def singular(name: str) -> str:
    name = norm(re.sub(r"[^A-Za-z0-9]+", "", name))
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def by_name(name: str) -> str | None:
    word = singular(name)
    for collection, synonyms in SYNONYMS.items():
        if word in synonyms or word == singular(collection):
            return collection
    return None


def by_content(sample: list[Any]) -> tuple[str | None, str]:
    """The collection the first records look like, and why."""
    keys: set[str] = set()
    for record in sample:
        if isinstance(record, dict):
            keys |= {norm(key) for key in record}
        elif isinstance(record, list):
            keys.add("items")  # a list of lines under a key (carts or orders keyed by user)
    if not keys:
        return None, ""

    def has(collection: str, canonical: str) -> bool:
        return bool(keys & set(ALIASES[collection][canonical]))

    if has("orders", "lines") and (has("orders", "total") or has("orders", "status")):
        return "orders", "records hold lines and a total or a status"
    if has("users", "password") and (has("users", "email") or has("users", "username")):
        return "users", "records hold an email or username and a password"
    if has("products", "price") and has("products", "name"):
        return "products", "records hold a price and a name or title"
    if has("carts", "lines") and has("carts", "user"):
        return "carts", "records hold lines and a user"
    if keys & {"type", "event", "eventtype"} and keys & {"timestamp", "createdat", "date"}:
        return "analytics", "records hold an event type and a time"
    if has("leads", "email") and has("leads", "message"):
        return "leads", "records hold an email and a message"
    return None, ""


def recognise(unit: Unit, mapped: dict[str, str]) -> None:
    """Sets `unit.collection` (None: not understood) and `unit.rule`."""
    for label in _labels(unit):
        if label in mapped:
            unit.collection = mapped[label]
            unit.rule = f'the mapping file ("{label}")'
            return
    if collection := by_name(unit.stem):
        unit.collection, unit.rule = collection, f'name "{unit.stem}"'
        return
    if singular(unit.stem) in NOT_GUESSED or any(w in singular(unit.stem) for w in NOT_GUESSED):
        unit.collection, unit.rule = None, ""
        return
    sample = []
    for record in unit.records():
        sample.append(record.value)
        if len(sample) >= SAMPLE:
            break
    unit.sample = sample
    collection, why = by_content(sample)
    unit.collection, unit.rule = collection, f"content: {why}" if collection else ""


def _labels(unit: Unit) -> list[str]:
    """How the mapping file may name a unit: its full name, the file's name, its stem or key."""
    labels = [unit.name]
    file_name, _, key = unit.name.partition(":")
    base = file_name.rsplit("/", 1)[-1]
    labels += [f"{base}:{key}", key] if key else [base, base.rsplit(".", 1)[0]]
    return labels
