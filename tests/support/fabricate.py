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
        self.random = random.Random(seed)
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
        when = "2022-02-02T02:02:02Z"
        # One record of each anomaly first, whatever the size of the store.
        showcase: list[dict[str, Any]] = [
            {"id": "u-case", "email": " CUSTOMER1@example.com ", "passwordHash": None,
             "role": "user", "createdAt": "2026-01-01T00:00:00Z"},
            {"id": "u-role", "email": "root@example.com", "role": "superuser", "createdAt": when},
            {"id": "u-plain", "email": "plain@example.com", "password": "plain-u-plain",
             "createdAt": when},
            {"id": "u-nopass", "email": "nopass@example.com", "createdAt": when},
            {"id": "u-nul", "email": "nul@example.com", "name": "N\u0000ul", "createdAt": when},
        ]  # fmt: skip
        yield from showcase
        yield from self._users()
        yield {"id": 1, "email": "duplicate-id@example.com", "createdAt": when}

    def _users(self) -> Iterator[dict[str, Any]]:
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
        when = "2022-02-02 02:02:02"
        showcase: list[dict[str, Any]] = [
            {"id": "p-comma", "name": "Comma", "price": "12,50", "stock": 1, "createdAt": when},
            {"id": "p-round", "name": "Round", "price": 7.125, "stock": 1, "createdAt": when},
            {"id": "p-negative", "name": "Negative", "price": -1, "createdAt": when},
            {"id": "p-nan", "name": "Not a number", "price": "free", "createdAt": when},
            {"id": "p-nostock", "name": "No stock", "price": 1, "createdAt": when},
            {"id": "p-minus", "name": "Minus", "price": 1, "stock": -2, "createdAt": when},
        ]  # fmt: skip
        yield from showcase
        yield from self._products()
        yield {"id": 1, "name": "Duplicate id", "price": 1, "stock": 1, "createdAt": when}

    def _products(self) -> Iterator[dict[str, Any]]:
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
        showcase: list[dict[str, Any]] = [
            {"userId": "u-plain", "items": [{"productId": 1, "quantity": 1},
                                            {"productId": 1, "qty": 2},
                                            {"productId": "nowhere", "quantity": 1},
                                            {"productId": 2, "quantity": -1}]},
            {"userId": "nobody", "items": [{"productId": 1, "quantity": 1}]},
        ]  # fmt: skip
        yield from showcase
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
        def line(product: Any, quantity: Any = 1, price: Any = 10) -> dict[str, Any]:
            return {"productId": product, "quantity": quantity, "unitPrice": price}

        base = {"userId": 1, "status": "paid", "total": 10, "paymentIntentId": None,
                "createdAt": "2022-02-02T02:02:02+01:00"}  # fmt: skip
        showcase: list[dict[str, Any]] = [
            {**base, "id": "o-nobody", "userId": "nobody", "items": [line(1)]},
            {**base, "id": "o-missing", "items": [line("p-gone")]},
            {**base, "id": "o-twice", "total": 20, "items": [line(1), line(1)]},
            {**base, "id": "o-two-prices", "items": [line(1), line(1, price=11)]},
            {**base, "id": "o-quantity", "items": [line(1, quantity=0)]},
            {**base, "id": "o-complete", "status": "Completed", "items": [line(1)]},
            {**base, "id": "o-canceled", "status": "canceled", "items": [line(1)]},
            {**base, "id": "o-hold", "status": "on-hold", "items": [line(1)]},
            {**base, "id": "o-total", "total": 99, "items": [line(1)]},
            {**base, "id": "o-intent-1", "paymentIntentId": "pi_twice", "items": [line(1)]},
            {**base, "id": "o-intent-2", "paymentIntentId": "pi_twice", "items": [line(1)],
             "createdAt": "2023-01-01T00:00:00Z"},
            {**base, "id": "o-undated", "createdAt": None, "items": [line(1)]},
        ]  # fmt: skip
        yield from showcase
        yield from self._orders()

    def _orders(self) -> Iterator[dict[str, Any]]:
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
        yield {"name": "No email", "message": "Call me", "createdAt": "2022-02-02"}
        yield {"name": "N\u0000ul", "email": "nul@example.org", "message": "Hi"}
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
        when = 1_650_000_000_000
        showcase: list[dict[str, Any]] = [
            {"id": "e-nobody", "type": "page_view", "userId": "nobody", "payload": {},
             "createdAt": when},
            {"id": "e-string", "type": "click", "payload": "buy-button", "createdAt": when},
            {"id": "e-undated", "type": "click", "payload": {}},
            {"event": "search", "data": {"q": "mug"}, "timestamp": 1_650_000_000},
            {"id": "e-nul", "type": "search", "payload": {"q": "n\u0000ul"}, "createdAt": when},
            {"id": "e-nul", "type": "duplicate id", "payload": {}, "createdAt": when},
        ]  # fmt: skip
        yield from showcase
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


SHAPES = ("express", "lowdb", "wrapped", "mongoexport")


def write_store(
    path: Path, *, records: int, seed: int = 1, lowdb: bool = False, shape: str = "express"
) -> Path:
    """Write a store of about `records` records at `path` and return what to pass to
    `comptoir import-json`. Its container is the shape's: "express" a directory of arrays
    with events as NDJSON; "lowdb" one db.json file; "wrapped" each array wrapped with
    metadata (`{"version": 2, "users": [...]}`); "mongoexport" NDJSON files in MongoDB
    Extended JSON (`$oid` ids and references, `$date`, `$numberDecimal`)."""
    shape = "lowdb" if lowdb else shape
    fabricator = Fabricator(records, seed)
    path.mkdir(parents=True, exist_ok=True)
    collections = {
        "users": fabricator.users, "products": fabricator.products, "carts": fabricator.carts,
        "orders": fabricator.orders, "leads": fabricator.leads,
    }  # fmt: skip
    if shape == "lowdb":
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
            if shape == "mongoexport":
                for item in make():
                    out.write(json.dumps(_extended(item)) + "\n")
            elif shape == "wrapped":
                out.write(f'{{"version": 2, "{name}": ')
                _array(out, make())
                out.write("}\n")
            else:
                _array(out, make())
    with (path / "analytics.ndjson").open("w", encoding="utf-8") as out:
        for event in fabricator.analytics():
            out.write(json.dumps(event) + "\n")
    return path


def _extended(value: Any, key: str = "") -> Any:
    """A record as mongoexport writes it: integer ids and references as `$oid`, dates as
    `$date`, non-integer prices as `$numberDecimal` (odd values left as they are)."""
    if isinstance(value, dict):
        return {("_id" if k == "id" else k): _extended(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_extended(item, key) for item in value]
    if (key == "id" or key.endswith("Id")) and type(value) is int and value >= 0:
        return {"$oid": f"{value:024x}"}
    if key in ("createdAt", "updatedAt") and isinstance(value, str) and "T" in value:
        return {"$date": value}
    if key in ("price", "unitPrice", "total") and type(value) is float:
        return {"$numberDecimal": repr(value)}
    return value


def _array(out: Any, items: Iterator[dict[str, Any]]) -> None:
    out.write("[")
    for index, item in enumerate(items):
        out.write((",\n" if index else "\n") + json.dumps(item))
    out.write("\n]")
