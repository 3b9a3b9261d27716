"""Legacy stores made to order: a directory of collection files (or one lowdb `db.json`)
of a given size, shaped like the Express app's, with every kind of anomaly the import
contract lists sprinkled in. For tests, benchmarks and trying `comptoir import-json`.

Most records are analytics events, as in real stores. The same seed writes the same
store. Passwords of the bcrypt accounts are "legacy-<user id>"; plain-text ones are
"plain-<user id>".
"""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt

START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 4 * 365 * 24 * 3600
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "search", "checkout_started")


def shares(records: int) -> dict[str, int]:
    """How many records of each collection a store of `records` records holds."""
    users = max(10, records // 50)
    products = max(10, records // 100)
    orders = max(5, records // 40)
    carts = max(3, users // 3)
    leads = max(3, records // 200)
    events = max(10, records - users - products - orders - carts - leads)
    return {"users": users, "products": products, "carts": carts, "orders": orders,
            "leads": leads, "analytics": events}  # fmt: skip


class Fabricator:
    def __init__(self, records: int, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.counts = shares(records)

    def moment(self) -> Any:
        """A date in one of the shapes the app wrote over the years."""
        when = START + timedelta(seconds=self.random.randrange(SPAN_SECONDS))
        shape = self.random.random()
        if shape < 0.7:
            return when.isoformat().replace("+00:00", "Z")
        if shape < 0.8:
            return when.strftime("%Y-%m-%d %H:%M:%S")
        if shape < 0.9:
            return int(when.timestamp() * 1000)
        if shape < 0.95:
            return int(when.timestamp())
        return when.replace(tzinfo=None).isoformat()

    def chance(self, probability: float) -> bool:
        return self.random.random() < probability

    def users(self) -> Iterator[dict[str, Any]]:
        for n in range(1, self.counts["users"] + 1):
            email = f"customer{n}@example.com"
            user: dict[str, Any] = {"id": n, "email": email, "name": f"Customer {n}"}
            user["role"] = "admin" if n == 1 else "user" if self.chance(0.5) else "customer"
            if self.chance(0.01):
                user["role"] = "superuser"
            if n % 500 == 7:
                user["password"] = f"plain-{n}"
            elif n % 500 == 11:
                pass  # no password at all
            else:
                # bcrypt at cost 4: as valid as the app's cost-10 hashes, and quick to make.
                user["passwordHash"] = bcrypt.hashpw(
                    f"legacy-{n}".encode(), bcrypt.gensalt(4)
                ).decode()
            user["createdAt"] = self.moment()
            if self.chance(0.002):
                user["name"] = "Nul\u0000Name"
            yield user
            if self.chance(0.01):  # the same person again, years later
                yield {**user, "id": f"dup-{n}", "email": f"  {email.upper()} ",
                       "createdAt": "2025-06-01T00:00:00Z"}  # fmt: skip
            if self.chance(0.002):
                yield {**user, "email": f"other{n}@example.com"}  # duplicate id

    def products(self) -> Iterator[dict[str, Any]]:
        for n in range(1, self.counts["products"] + 1):
            price: Any = round(self.random.uniform(1, 500), 2)
            shape = self.random.random()
            if shape < 0.1:
                price = f"{price:.2f}".replace(".", ",")
            elif shape < 0.15:
                price = f"{price:.2f}"
            elif shape < 0.18:
                price = round(price + 0.005, 3)
            elif shape < 0.185:
                price = -price
            elif shape < 0.19:
                price = "free"
            product: dict[str, Any] = {"id": n, "name": f"Product {n}", "price": price,
                                       "stock": self.random.randrange(0, 100)}  # fmt: skip
            if self.chance(0.05):
                del product["stock"]
            elif self.chance(0.02):
                product["stock"] = -3
            if self.chance(0.05):
                product["active"] = False
            if self.chance(0.02):
                product["deleted"] = True
            product["createdAt"] = self.moment()
            yield product

    def product_id(self) -> int:
        # Orders also name products that products.json lacks (ids past the end).
        return self.random.randrange(1, self.counts["products"] + 1 + self.counts["products"] // 50)

    def user_id(self) -> int | str:
        return self.random.randrange(1, self.counts["users"] + 1) if self.chance(0.99) else 10**9

    def carts(self) -> Iterator[dict[str, Any]]:
        for _ in range(self.counts["carts"]):
            items = [{"productId": self.random.randrange(1, self.counts["products"] + 1),
                      "quantity": self.random.randrange(1, 4)} for _ in range(3)]  # fmt: skip
            if self.chance(0.05):
                items.append({"productId": 10**9, "qty": 1})
            if self.chance(0.05):
                items.append({"productId": items[0]["productId"], "quantity": 0})
            if self.chance(0.05):
                items.append(dict(items[0]))
            yield {"userId": self.user_id(), "items": items, "updatedAt": self.moment()}

    def orders(self) -> Iterator[dict[str, Any]]:
        statuses = ["pending", "paid", "Shipped", "delivered", "completed", "canceled",
                    "cancelled", "PAID"]  # fmt: skip
        for n in range(1, self.counts["orders"] + 1):
            items = []
            for product in self.random.sample(range(1, self.counts["products"] + 1), 2):
                items.append({"productId": product, "quantity": self.random.randrange(1, 3),
                              "unitPrice": round(self.random.uniform(1, 200), 2)})  # fmt: skip
            if self.chance(0.02):
                items.append({"productId": self.product_id(), "quantity": 1, "price": 9.99})
            if self.chance(0.01):
                items.append(dict(items[0]))
            if self.chance(0.002):
                items.append({**items[0], "unitPrice": items[0]["unitPrice"] + 1})
            if self.chance(0.002):
                items[0]["quantity"] = -1
            total = round(sum(i["quantity"] * i.get("unitPrice", i.get("price", 0))
                              for i in items), 2)  # fmt: skip
            if self.chance(0.02):
                total += 1
            status = self.random.choice(statuses) if self.chance(0.995) else "on-hold"
            intent = f"pi_{n}" if status not in ("pending", "on-hold") else None
            if intent and self.chance(0.002):
                intent = "pi_1"
            order = {"id": n, "userId": self.user_id(), "status": status, "items": items,
                     "total": total, "paymentIntentId": intent,
                     "createdAt": self.moment()}  # fmt: skip
            if self.chance(0.002):
                order["createdAt"] = "not a date"
            yield order
            if self.chance(0.001):
                yield order  # duplicate id

    def leads(self) -> Iterator[dict[str, Any]]:
        for n in range(1, self.counts["leads"] + 1):
            lead: dict[str, Any] = {"id": n, "name": f"Lead {n}", "email": f"lead{n}@example.org",
                                    "message": "Do you ship to Belgium?",
                                    "createdAt": self.moment()}  # fmt: skip
            if self.chance(0.02):
                del lead["email"]
            if self.chance(0.2):
                del lead["id"]
            yield lead

    def analytics(self) -> Iterator[dict[str, Any]]:
        for n in range(1, self.counts["analytics"] + 1):
            kind = self.random.choice(EVENT_TYPES)
            payload: Any = {"path": f"/products/{self.random.randrange(1, 5000)}", "n": n}
            event: dict[str, Any] = {"id": n, "type": kind,
                                     "userId": self.user_id() if self.chance(0.6) else None,
                                     "payload": payload, "createdAt": self.moment()}  # fmt: skip
            shape = self.random.random()
            if shape < 0.1:  # the oldest shape of an event
                event = {"event": kind, "userId": event["userId"], "data": payload,
                         "timestamp": event["createdAt"]}  # fmt: skip
            elif shape < 0.11:
                event["payload"] = "clicked"
            elif shape < 0.111:
                event["createdAt"] = None
            elif shape < 0.112:
                event["payload"] = {"query": "nul\u0000byte"}
            yield event
            if self.chance(0.0005):
                yield event  # duplicate id (or, for the oldest shape, a second identical event)


def write_store(path: Path, *, records: int, seed: int = 1, lowdb: bool = False) -> Path:
    """Write a store of about `records` records at `path` (a directory, or with `lowdb` a
    db.json file inside it) and return what to pass to `comptoir import-json`."""
    fabricator = Fabricator(records, seed)
    path.mkdir(parents=True, exist_ok=True)
    collections = {
        "users": fabricator.users, "products": fabricator.products, "carts": fabricator.carts,
        "orders": fabricator.orders, "leads": fabricator.leads,
    }  # fmt: skip
    if lowdb:
        target = path / "db.json"
        with target.open("w", encoding="utf-8") as out:
            out.write("{")
            for name, make in [*collections.items(), ("analytics", fabricator.analytics)]:
                out.write(f'"{name}": ')
                _array(out, make())
                out.write(", " if name != "analytics" else "")
            out.write("}\n")
        return target
    for name, make in collections.items():
        with (path / f"{name}.json").open("w", encoding="utf-8") as out:
            _array(out, make())
    with (path / "analytics.ndjson").open("w", encoding="utf-8") as out:
        for event in fabricator.analytics():
            out.write(json.dumps(event) + "\n")
    return path


def _array(out: Any, items: Iterator[dict[str, Any]]) -> None:
    out.write("[")
    for index, item in enumerate(items):
        out.write((",\n" if index else "\n") + json.dumps(item))
    out.write("\n]")
