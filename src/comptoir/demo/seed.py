"""`comptoir demo`: a realistic demo shop in an empty database, to try the API at once.

Products with varied names and prices, customers (one with a documented login), carts,
orders in every status with their stock already taken, leads and analytics events. All in
one transaction; the stock invariants hold as if every order had gone through checkout.
"""

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg
from argon2 import PasswordHasher

from comptoir.auth.security import STANDARD, hash_password
from comptoir.demo import queries
from comptoir.demo.names import product_names

DEMO_CUSTOMER = ("demo@comptoir.test", "comptoir-demo")
DEMO_ADMIN = ("admin@comptoir.test", "comptoir-admin")
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Hugo",
    "Inès",
    "Louis",
    "Chloé",
    "Jules",
    "Manon",
    "Nora",
    "Théo",
    "Zoé",
    "Adam",
    "Jade",
    "Lucas",
    "Emma",
    "Yanis",
    "Alice",
    "Malo",
]
STATUSES = ["pending", "paid", "shipped", "cancelled"]
EVENT_TYPES = ["page_view", "search", "add_to_cart", "checkout", "signup"]


class NotEmpty(Exception):
    pass


async def fill(
    url: str,
    *,
    products: int = 1000,
    customers: int = 50,
    seed: int = 7,
    step: Callable[[str], None] = lambda _: None,
    hasher: PasswordHasher = STANDARD,
) -> str:
    """`step` hears which part is being written, for a progress display."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    conn = await asyncpg.connect(url)
    try:
        if not await queries.fetch_is_empty(conn):
            raise NotEmpty("the database already has users or products; demo fills empty ones")
        async with conn.transaction():
            step(f"{products:,} products")
            catalog = await _products(conn, rng, products)
            step(f"{customers:,} customers")
            people = await _customers(conn, rng, customers, hasher)
            step("orders")
            orders = await _orders(conn, rng, people, catalog)
            step("carts, leads and analytics events")
            await _carts(conn, rng, people, catalog)
            await _leads(conn, rng)
            events = await _events(conn, rng, people, catalog)
    finally:
        await conn.close()
    return (
        f"demo shop ready: {products} products ({len(catalog)} on sale), "
        f"{len(people)} customers, {orders} orders, {events} events. "
        f"Log in as {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[1]} "
        f"or, as admin, {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}"
    )


async def _products(
    conn: asyncpg.Connection, rng: random.Random, count: int
) -> list[tuple[UUID, Decimal]]:
    now = datetime.now(UTC)
    rows = [
        (
            name,
            Decimal(rng.choice([4, 9, 12, 19, 24, 29, 39, 49, 79, 129, 249])) + Decimal("0.90"),
            rng.randint(0, 120) + 20,  # enough on every product for the orders to take
            rng.random() > 0.05,
            now - timedelta(minutes=rng.randint(0, 200_000)),
        )
        for name in product_names(count, seed=rng.randint(0, 10**6))
    ]
    await queries.copy_products(conn, rows=rows)
    return await queries.list_products_on_sale(conn)


async def _customers(
    conn: asyncpg.Connection, rng: random.Random, count: int, hasher: PasswordHasher
) -> list[UUID]:
    password = await hash_password(DEMO_CUSTOMER[1], hasher)
    rows = [(DEMO_CUSTOMER[0], password, "customer", "Demo")]
    for i in range(count - 1):
        first = rng.choice(FIRST_NAMES)
        rows.append((f"{first.lower()}.{i}@example.com", password, "customer", first))
    rows.append((DEMO_ADMIN[0], await hash_password(DEMO_ADMIN[1], hasher), "admin", "Admin"))
    await queries.insert_users(conn, rows=rows)
    return await queries.list_customer_ids(conn)


async def _orders(
    conn: asyncpg.Connection,
    rng: random.Random,
    people: list[UUID],
    catalog: list[tuple[UUID, Decimal]],
) -> int:
    count = len(people) * 4
    for n in range(count):
        lines = {
            p: (rng.randint(1, 3), price) for p, price in rng.sample(catalog, rng.randint(1, 4))
        }
        status = STATUSES[n % 4]
        buyer = rng.choice(people)
        hours_ago = rng.randint(1, 24 * 90)
        await queries.insert_order(
            conn,
            user_id=buyer,
            status=status,
            lines=lines,
            # Unpaid orders expire after COMPTOIR_PENDING_ORDER_TTL_MINUTES: the demo's are
            # recent, so that `serve` right after `demo` still shows some.
            hours_ago=0 if status == "pending" else hours_ago,
            payment_intent_id=f"pi_demo_{n}" if status in ("paid", "shipped") else None,
        )
    return count


async def _carts(
    conn: asyncpg.Connection,
    rng: random.Random,
    people: list[UUID],
    catalog: list[tuple[UUID, Decimal]],
) -> None:
    for person in rng.sample(people, len(people) // 3):
        lines = [(p, rng.randint(1, 2)) for p, _ in rng.sample(catalog, rng.randint(1, 3))]
        await queries.insert_cart(conn, user_id=person, lines=lines)


async def _leads(conn: asyncpg.Connection, rng: random.Random) -> None:
    await queries.insert_leads(
        conn,
        rows=[
            (
                name,
                f"{name.lower()}.{i}@example.org",
                rng.choice(
                    ["Do you ship to Belgium?", "Wholesale prices?", "Is the teapot in stock?"]
                ),
                rng.randint(1, 24 * 60),
            )
            for i, name in enumerate(rng.choices(FIRST_NAMES, k=100))
        ],
    )


async def _events(
    conn: asyncpg.Connection,
    rng: random.Random,
    people: list[UUID],
    catalog: list[tuple[UUID, Decimal]],
) -> int:
    now = datetime.now(UTC)
    rows = []
    for _ in range(5000):
        kind = rng.choice(EVENT_TYPES)
        payload = {
            "page_view": {"path": f"/products/{rng.choice(catalog)[0]}"},
            "search": {"q": rng.choice(["théière", "veste", "lampe", "sac"])},
            "add_to_cart": {"product_id": str(rng.choice(catalog)[0])},
            "checkout": {"items": rng.randint(1, 4)},
            "signup": {"source": rng.choice(["ads", "newsletter", "direct"])},
        }[kind]
        user = rng.choice(people) if rng.random() < 0.6 else None
        rows.append(
            (kind, user, json.dumps(payload), now - timedelta(minutes=rng.randint(0, 43_000)))
        )
    await queries.copy_events(conn, rows=rows)
    return len(rows)
