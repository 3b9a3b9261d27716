"""Plain async factories: each inserts one row (and what it needs) and returns its id."""

import functools
import itertools
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import asyncpg
import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from comptoir.auth.security import issue_token

PASSWORD = "correct horse battery staple"
# The suite's argon2id parameters (Settings' argon2_* fields), far cheaper than the app's
# defaults: no password here is real, and each login verifies a hash. tests/conftest.py
# puts them in the environment, so that every Settings() and every `comptoir serve` of the
# suite hashes with them; the tests of hashing itself (their timing) keep the defaults
# (`real_password_hashing`). Same parameters as the app's: a login does not rehash.
ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@functools.cache
def password_hash(hasher: PasswordHasher = TEST_HASHER) -> str:
    """PASSWORD hashed once per hasher: registering through the API for every test would
    cost a hash each time."""
    return hasher.hash(PASSWORD)


PASSWORD_HASH = password_hash()

_sequence = itertools.count(1)


async def make_user(
    conn: asyncpg.Connection,
    *,
    email: str | None = None,
    role: str = "customer",
    password_hash: str | None = PASSWORD_HASH,
) -> UUID:
    email = email or f"user{next(_sequence)}@example.com"
    user: UUID = await conn.fetchval(
        "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id",
        email,
        password_hash,
        role,
    )
    return user


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def minted(app: FastAPI, user: UUID, email: str) -> Account:
    """An account whose token is minted directly: for tests about something else than login
    (each login verifies an argon2id hash, on purpose slow)."""
    token, _ = issue_token(app.state.jwt_secret, user_id=user, generation=0, ttl=3600)
    return Account(user, email, token)


async def make_product(
    conn: asyncpg.Connection,
    *,
    name: str | None = None,
    price: Decimal = Decimal("9.90"),
    stock: int = 10,
    active: bool = True,
) -> UUID:
    product: UUID = await conn.fetchval(
        "INSERT INTO products (name, price, stock, active) VALUES ($1, $2, $3, $4) RETURNING id",
        name or f"Product {next(_sequence)}",
        price,
        stock,
        active,
    )
    return product


async def make_cart(
    conn: asyncpg.Connection, user: UUID, *, lines: dict[UUID, int] | None = None
) -> UUID:
    cart: UUID = await conn.fetchval("INSERT INTO carts (user_id) VALUES ($1) RETURNING id", user)
    for product, quantity in (lines or {}).items():
        await conn.execute(
            "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)",
            cart,
            product,
            quantity,
        )
    return cart


async def make_order(
    conn: asyncpg.Connection,
    user: UUID,
    *,
    lines: dict[UUID, tuple[int, Decimal]],
    status: str = "pending",
    payment_intent_id: str | None = None,
) -> UUID:
    total = sum((quantity * price for quantity, price in lines.values()), Decimal("0.00"))
    # One transaction: the database checks at commit that the total is the sum of the lines.
    async with conn.transaction():
        return await _insert_order(conn, user, lines, total, status, payment_intent_id)


async def _insert_order(
    conn: asyncpg.Connection,
    user: UUID,
    lines: dict[UUID, tuple[int, Decimal]],
    total: Decimal,
    status: str,
    payment_intent_id: str | None,
) -> UUID:
    order: UUID = await conn.fetchval(
        "INSERT INTO orders (user_id, status, total_amount, payment_intent_id)"
        " VALUES ($1, $2, $3, $4) RETURNING id",
        user,
        status,
        total,
        payment_intent_id,
    )
    for product, (quantity, price) in lines.items():
        await conn.execute(
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price)"
            " VALUES ($1, $2, $3, $4)",
            order,
            product,
            quantity,
            price,
        )
    return order
