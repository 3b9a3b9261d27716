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

from comptoir.auth.security import hash_password
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
) -> str:
    """`step` hears which part is being written, for a progress display."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM products)"
        ):
            raise NotEmpty("the database already has users or products; demo fills empty ones")
        async with conn.transaction():
            step(f"{products:,} products")
            catalog = await _products(conn, rng, products)
            step(f"{customers:,} customers")
            people = await _customers(conn, rng, customers)
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
    await conn.copy_records_to_table(
        "products", records=rows, columns=["name", "price", "stock", "active", "created_at"]
    )
    return [
        (r["id"], r["price"])
        for r in await conn.fetch("SELECT id, price FROM products WHERE active ORDER BY id")
    ]


async def _customers(conn: asyncpg.Connection, rng: random.Random, count: int) -> list[UUID]:
    password = await hash_password(DEMO_CUSTOMER[1])
    rows = [(DEMO_CUSTOMER[0], password, "customer", "Demo")]
    for i in range(count - 1):
        first = rng.choice(FIRST_NAMES)
        rows.append((f"{first.lower()}.{i}@example.com", password, "customer", first))
    rows.append((DEMO_ADMIN[0], await hash_password(DEMO_ADMIN[1]), "admin", "Admin"))
    await conn.executemany(
        "INSERT INTO users (email, password_hash, role, name) VALUES ($1, $2, $3, $4)", rows
    )
    return [r["id"] for r in await conn.fetch("SELECT id FROM users WHERE role = 'customer'")]


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
        order = await conn.fetchval(
            "INSERT INTO orders (user_id, status, total_amount, created_at, payment_intent_id)"
            " VALUES ($1, $2, $3, now() - make_interval(hours => $4), $5) RETURNING id",
            rng.choice(people),
            status,
            sum(q * p for q, p in lines.values()),
            rng.randint(1, 24 * 90),
            f"pi_demo_{n}" if status in ("paid", "shipped") else None,
        )
        await conn.executemany(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
            " VALUES ($1, $2, $3, $4)",
            [(order, p, q, price) for p, (q, price) in lines.items()],
        )
        if status != "cancelled":
            await conn.executemany(
                "UPDATE products SET stock = stock - $2 WHERE id = $1",
                [(p, q) for p, (q, _) in lines.items()],
            )
    return count


async def _carts(
    conn: asyncpg.Connection,
    rng: random.Random,
    people: list[UUID],
    catalog: list[tuple[UUID, Decimal]],
) -> None:
    for person in rng.sample(people, len(people) // 3):
        cart = await conn.fetchval("INSERT INTO carts (user_id) VALUES ($1) RETURNING id", person)
        await conn.executemany(
            "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)",
            [(cart, p, rng.randint(1, 2)) for p, _ in rng.sample(catalog, rng.randint(1, 3))],
        )


async def _leads(conn: asyncpg.Connection, rng: random.Random) -> None:
    await conn.executemany(
        "INSERT INTO leads (name, email, message, created_at)"
        " VALUES ($1, $2, $3, now() - make_interval(hours => $4))",
        [
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
    # The months the events span need their partitions (the migration made this month's).
    await conn.execute("SELECT create_analytics_events_partitions(now() - interval '1 month', 3)")
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
    await conn.copy_records_to_table(
        "analytics_events", records=rows, columns=["event_type", "user_id", "payload", "created_at"]
    )
    return len(rows)
