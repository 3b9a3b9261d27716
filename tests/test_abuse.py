"""The abuse run: what a hostile or broken client sends is refused cleanly (a 4xx in
problem+json, never a 5xx, never a stack trace) and writes nothing."""

import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg
import httpx
import jwt
from fastapi import FastAPI

from comptoir.payments.signature import sign
from tests.factories import Account, make_product

PROBLEM_JSON = "application/problem+json"
COUNTED = [
    "users", "products", "carts", "cart_items", "orders", "order_items",
    "idempotency_keys", "revoked_tokens",
]  # fmt: skip
SQL = [
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "1) UNION SELECT password_hash FROM users --",
    "$1; DELETE FROM products",
]


async def counts(db: asyncpg.Connection) -> dict[str, int]:
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in COUNTED}


def refused_cleanly(response: httpx.Response, *statuses: int) -> None:
    label = f"{response.request.method} {response.request.url} -> {response.status_code}"
    assert response.status_code in statuses, f"{label}: {response.text[:300]}"
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON, label
    body = response.json()
    assert body["status"] == response.status_code
    assert "Traceback" not in response.text and "asyncpg" not in response.text


async def chunks(size: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        yield b" " * 65536
        sent += 65536


def unsigned(claims: dict[str, Any]) -> str:
    """A token with `alg: none`: a header, claims, and no signature."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


Call = Callable[[httpx.AsyncClient], Coroutine[Any, Any, httpx.Response]]


async def test_malformed_and_oversized_requests_are_refused_and_write_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    product = await make_product(db, name="Lampe", stock=5)
    big = b'{"email": "big@example.com", "password": "' + b"x" * 6_000_000 + b'"}'
    deep = b"[" * 200_000 + b"]" * 200_000
    cases: list[tuple[Call, tuple[int, ...]]] = [
        # Over the 5 MiB limit: declared, then streamed without a Content-Length.
        (lambda c: c.post("/v1/auth/register", content=big, headers=json_type), (413,)),
        (lambda c: c.post("/v1/auth/register", content=chunks(8_000_000), headers=json_type),
         (413,)),
        (lambda c: c.post("/v1/products", content=big, headers=admin.headers | json_type),
         (413,)),
        # JSON nested past any sane depth, bad UTF-8, not JSON at all.
        (lambda c: c.post("/v1/auth/register", content=deep, headers=json_type), (400, 422)),
        (lambda c: c.put(f"/v1/cart/items/{product}", content=deep,
                         headers=customer.headers | json_type), (400, 422)),
        (lambda c: c.post("/v1/auth/register", content=b'{"email": "\xff\xfe@x.fr", '
                          b'"password": "\xc3\x28\xa0\xa1long enough"}', headers=json_type),
         (400, 422)),
        (lambda c: c.post("/v1/auth/login", content=b"\x00\x01{{{", headers=json_type),
         (400, 422)),
        (lambda c: c.post("/v1/products", json={"name": "Nul\u0000", "price": "1.00",
                                                 "stock": 1}, headers=admin.headers), (422,)),
        # Page sizes and numbers out of range.
        (lambda c: c.get("/v1/products?limit=1000000000000"), (422,)),
        (lambda c: c.get("/v1/products?limit=-1"), (422,)),
        (lambda c: c.get("/v1/admin/users?limit=99999999999999999999999",
                         headers=admin.headers), (422,)),
        (lambda c: c.put(f"/v1/cart/items/{product}", json={"quantity": 10**30},
                         headers=customer.headers), (422,)),
        (lambda c: c.patch(f"/v1/products/{product}", json={"price": "1e999999"},
                           headers=admin.headers), (422,)),
        (lambda c: c.get("/v1/products?cursor=" + "A" * 5000), (400, 422)),
        # SQL where ids go.
        *[(lambda c, s=s: c.put(f"/v1/cart/items/{s}", json={"quantity": 1},
                                headers=customer.headers), (404, 422)) for s in SQL],
    ]  # fmt: skip
    before = await counts(db)
    for call, statuses in cases:
        refused_cleanly(await call(client), *statuses)
    assert await counts(db) == before
    assert await db.fetchval("SELECT stock FROM products WHERE id = $1", product) == 5


json_type = {"Content-Type": "application/json"}


async def test_sql_in_every_text_field_is_only_ever_text(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    before = await counts(db)
    for text in SQL:
        refused_cleanly(
            await client.post("/v1/auth/register", json={"email": text, "password": text}),
            422,
        )
        refused_cleanly(
            await client.post("/v1/auth/login", json={"email": text, "password": text}),
            401,
            422,
        )
        search = await client.get("/v1/products/search", params={"q": text})
        assert search.status_code == 200 and search.json()["items"] == []
        refused_cleanly(
            await client.post("/v1/checkout", headers=customer.headers | {"Idempotency-Key": text}),
            422,  # the cart is empty; the key was only ever a parameter
        )
        refused_cleanly(
            await client.patch(
                f"/v1/admin/users/{customer.id}", json={"role": text}, headers=admin.headers
            ),
            422,
        )
    assert await counts(db) == before
    # Where free text is allowed, it is stored as given, and nothing else happens.
    for text in SQL:
        made = await client.post(
            "/v1/products",
            json={"name": text, "description": text, "price": "1.00", "stock": 1},
            headers=admin.headers,
        )
        assert made.status_code == 201, made.text
        assert made.json()["name"] == text
    assert await db.fetchval("SELECT count(*) FROM products") == before["products"] + len(SQL)
    assert await db.fetchval("SELECT count(*) FROM users") == before["users"]


async def test_forged_expired_and_unsigned_tokens_are_refused_and_write_nothing(
    app: Any, client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await make_product(db, name="Lampe", stock=5)
    claims = jwt.decode(customer.token, options={"verify_signature": False})
    now = int(time.time())
    secret = app.state.jwt_secret
    tokens = {
        "other secret": jwt.encode(claims, "not-the-secret-" + "x" * 40, algorithm="HS256"),
        "expired": jwt.encode(
            {**claims, "iat": now - 7200, "exp": now - 3600}, secret, algorithm="HS256"
        ),
        "alg none": unsigned(claims),
        "alg none, no exp": unsigned({"sub": claims["sub"]}),
        "admin claims, alg none": unsigned({**claims, "role": "admin"}),
        "HS512 with the secret": jwt.encode(claims, secret, algorithm="HS512"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret),
        "unknown user": jwt.encode({**claims, "sub": str(uuid.uuid4())}, secret),
        "garbage": "not.a.token",
        "empty": "",
        "tampered": customer.token[:-4] + ("AAAA" if customer.token[-4:] != "AAAA" else "BBBB"),
    }
    before = await counts(db)
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for response in (
            await client.get("/v1/me", headers=headers),
            await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=headers),
            await client.post(
                "/v1/checkout", headers=headers | {"Idempotency-Key": str(uuid.uuid4())}
            ),
            await client.get("/v1/admin/users", headers=headers),
        ):
            assert response.status_code == 401, (name, response.request.url.path)
            refused_cleanly(response, 401)
    assert await counts(db) == before


async def test_deep_json_to_every_body_route_is_a_clean_4xx(
    client: httpx.AsyncClient, app: FastAPI, admin: Account
) -> None:
    """Every route that reads a JSON body, whoever calls it, the webhook signed."""
    depth = 100_000
    deep = ('{"a": ' + "[" * depth + "]" * depth + "}").encode()
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert ("POST", "/v1/events") in routes and ("POST", "/v1/payments/webhook") in routes
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        headers = admin.headers | json_type
        headers["Comptoir-Signature"] = sign(app.state.webhook_secret, deep, int(time.time()))
        response = await client.request(method, url, content=deep, headers=headers)
        refused_cleanly(response, 400, 422)
