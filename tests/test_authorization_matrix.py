"""Who may call what: every route of the product surface, walked by every kind of caller.

The contract (docs: http-api.md, "Conventions"): public routes answer anyone (a bad token on a
public route counts as no token); a missing, forged or expired token on a protected route is
401; a customer on an admin route is 403; a customer never sees another customer's data (404
or simply not there). Every 4xx is application/problem+json.

`ROUTES` is the table. `test_every_route_has_a_row` fails when the app grows a route that the
table does not list, so a new route cannot ship without its access rule being written down.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import httpx
import jwt
import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute

from comptoir.auth.security import new_refresh_token
from tests.factories import (
    PASSWORD,
    PASSWORD_HASH,
    Account,
    login,
    make_order,
    make_product,
    make_user,
)

PROBLEM_JSON = "application/problem+json"
# "signed": the payment provider's webhook, authenticated by its signature, not a token.
Access = Literal["public", "user", "admin", "signed"]

# Serving the docs (pages and their static assets) is not the product surface.
DOC_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/docs/assets"}


@dataclass
class World:
    """What one test's requests point at, created in the database before the calls."""

    product: uuid.UUID
    order: uuid.UUID  # a pending order of `customer`
    bystanders: dict[str, uuid.UUID]  # per caller, a user an admin route may change or delete
    customer: Account
    refresh_tokens: dict[str, str]  # per caller, an unspent refresh token of `customer`
    # per caller and purpose ("reset", "verify"), an unused link of the caller's bystander
    links: dict[tuple[str, str], str]
    address: uuid.UUID  # a saved address of `customer`
    deleted_product: uuid.UUID  # a soft-deleted product, for the restore


@dataclass(frozen=True)
class Caller:
    name: str
    token: str | None
    kind: Literal["nobody", "customer", "admin"]  # what the app must take the caller for

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


Body = Callable[[World, Caller], dict[str, Any]] | None


ADDRESS = {
    "name": "A",
    "line1": "1 rue A",
    "postal_code": "75001",
    "city": "Paris",
    "country": "FR",
}


def idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as declared in the app, with its {placeholders}
    access: Access
    success: int  # the status an allowed caller gets
    body: Body = None
    query: str = ""
    ends_token: bool = False  # the call ends the caller's token (logout, password change)
    deleted: bool = False  # {product_id} is the world's deleted product
    headers: Callable[[], dict[str, str]] | None = None
    # Per caller name, where the answer is not the access rule's: another customer's
    # order is not revealed (404).
    expect: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def url(self, world: World, caller: Caller) -> str:
        path = self.path.format(
            product_id=world.deleted_product if self.deleted else world.product,
            user_id=world.bystanders[caller.name],
            order_id=world.order,
            address_id=world.address,
            asset="orders.js" if "pages" in self.path else "app.js",
        )
        return path + self.query


ROUTES = [
    # Public.
    Route(
        "POST",
        "/v1/auth/register",
        "public",
        201,
        body=lambda w, c: {"email": f"new-{c.name}@example.com", "password": "a new password"},
    ),
    Route(
        "POST",
        "/v1/auth/login",
        "public",
        200,
        body=lambda w, c: {"email": w.customer.email, "password": PASSWORD},
    ),
    Route(
        "POST",
        "/v1/auth/refresh",
        "public",
        200,
        body=lambda w, c: {"refresh_token": w.refresh_tokens[c.name]},
    ),
    Route(
        "POST",
        "/v1/auth/password-reset",
        "public",
        202,
        body=lambda w, c: {"email": w.customer.email},
    ),
    Route(
        "POST",
        "/v1/auth/password-reset/confirm",
        "public",
        204,
        body=lambda w, c: {"token": w.links[c.name, "reset"], "new_password": "a fresh one!"},
    ),
    Route(
        "POST",
        "/v1/auth/verify-email",
        "public",
        204,
        body=lambda w, c: {"token": w.links[c.name, "verify"]},
    ),
    Route("GET", "/v1/products", "public", 200),
    Route("GET", "/v1/products/search", "public", 200, query="?q=lampe"),
    Route("GET", "/v1/products/suggest", "public", 200, query="?q=lam"),
    Route("GET", "/v1/products/{product_id}", "public", 200),
    Route("GET", "/healthz", "public", 200),
    # The back office's page and assets: static, the same for everyone; its data comes from
    # the API's own routes.
    Route("GET", "/admin", "public", 308),
    Route("GET", "/admin/", "public", 200),
    Route("GET", "/admin/assets/{asset}", "public", 200),
    Route("GET", "/admin/assets/pages/{asset}", "public", 200),
    # The back office's sign-in: admins only, so a customer's right password is 403,
    # whoever sends it (tests/backoffice/test_session.py signs an admin in).
    Route(
        "POST",
        "/v1/auth/session",
        "public",
        403,
        body=lambda w, c: {"email": w.customer.email, "password": PASSWORD},
    ),
    Route("GET", "/readyz", "public", 200),
    Route(
        "POST",
        "/v1/leads",
        "public",
        201,
        body=lambda w, c: {"name": c.name, "email": "lead@example.com", "message": "Hello"},
    ),
    Route("POST", "/v1/events", "public", 202, body=lambda w, c: {"event_type": "page_view"}),
    # Operators: the metrics token (tests/ops) or, as here, an admin's access token.
    Route("GET", "/metrics", "admin", 200),
    # Any signed-in user, on their own account and cart.
    Route("POST", "/v1/auth/logout", "user", 204, ends_token=True),
    Route("DELETE", "/v1/auth/session", "user", 204, ends_token=True),
    Route("GET", "/v1/me", "user", 200),
    Route(
        "PUT",
        "/v1/me/password",
        "user",
        204,
        body=lambda w, c: {"current_password": PASSWORD, "new_password": "another password"},
        ends_token=True,
    ),
    Route("POST", "/v1/me/email-verification", "user", 202),
    Route(
        "POST",
        "/v1/me/email",
        "user",
        202,
        body=lambda w, c: {
            "new_email": f"moved-{c.name}@example.com",
            "current_password": PASSWORD,
        },
    ),
    Route("PATCH", "/v1/me", "user", 200, body=lambda w, c: {"name": f"Name of {c.name}"}),
    Route("GET", "/v1/me/addresses", "user", 200),
    Route("POST", "/v1/me/addresses", "user", 201, body=lambda w, c: ADDRESS),
    Route(
        "DELETE",
        "/v1/me/addresses/{address_id}",
        "user",
        204,
        expect=(("other_customer", 404), ("admin", 404)),
    ),
    Route(
        "POST",
        "/v1/me/erasure",
        "user",
        204,
        body=lambda w, c: {"current_password": PASSWORD},
        ends_token=True,
    ),
    Route("GET", "/v1/cart", "user", 200),
    Route("PUT", "/v1/cart/items/{product_id}", "user", 200, body=lambda w, c: {"quantity": 1}),
    Route("DELETE", "/v1/cart/items/{product_id}", "user", 204),
    Route("DELETE", "/v1/cart", "user", 204),
    # The callers' carts are empty: once authorized, checkout answers the empty-cart 422.
    Route("POST", "/v1/checkout", "user", 422, headers=idempotency_key),
    Route("GET", "/v1/orders", "user", 200),
    Route("GET", "/v1/orders/{order_id}", "user", 200, expect=(("other_customer", 404),)),
    Route(
        "POST",
        "/v1/orders/{order_id}/cancel",
        "user",
        200,
        expect=(("other_customer", 404), ("admin", 404)),
    ),
    # No payment provider in this app: once authorized, asking for the payment is 404.
    Route(
        "POST",
        "/v1/orders/{order_id}/payment",
        "user",
        404,
        expect=(("other_customer", 404), ("admin", 404)),
    ),
    # Stripe is off in this app: 404 whoever calls (its signatures: tests/payments/).
    Route("POST", "/v1/payments/stripe/webhook", "public", 404),
    # Unsigned: refused whoever calls, token or not.
    Route(
        "POST",
        "/v1/payments/webhook",
        "signed",
        200,
        body=lambda w, c: {
            "event_id": f"evt_{c.name}",
            "payment_intent_id": "pi_1",
            "order_id": str(w.order),
            "outcome": "succeeded",
            "amount": "9.90",
            "currency": "EUR",
        },
    ),
    # Admins only. The admin calls last, so destructive calls come after the refusals.
    Route(
        "POST",
        "/v1/products",
        "admin",
        201,
        body=lambda w, c: {"name": f"New {c.name}", "price": "5.00", "stock": 3},
    ),
    Route("PATCH", "/v1/products/{product_id}", "admin", 200, body=lambda w, c: {"stock": 7}),
    Route("DELETE", "/v1/products/{product_id}", "admin", 204),
    Route("GET", "/v1/admin/products", "admin", 200, query="?state=deleted"),
    Route("POST", "/v1/admin/products/{product_id}/restore", "admin", 200, deleted=True),
    Route("GET", "/v1/admin/orders", "admin", 200),
    Route("GET", "/v1/admin/orders/{order_id}", "admin", 200),
    Route(
        "POST",
        "/v1/admin/orders/{order_id}/status",
        "admin",
        200,
        body=lambda w, c: {"status": "paid"},
    ),
    Route("GET", "/v1/admin/users", "admin", 200),
    Route("PATCH", "/v1/admin/users/{user_id}", "admin", 200, body=lambda w, c: {"role": "admin"}),
    Route("GET", "/v1/admin/leads", "admin", 200),
    Route("GET", "/v1/admin/events", "admin", 200),
    Route("GET", "/v1/admin/events/summary", "admin", 200),
    Route("GET", "/v1/admin/dashboard", "admin", 200),
    Route("GET", "/v1/admin/db/stats", "admin", 200),
    Route("DELETE", "/v1/admin/users/{user_id}", "admin", 204),
]

CALLER_NAMES = ["anonymous", "forged", "expired", "customer", "other_customer", "admin"]


def expected_status(route: Route, caller: Caller) -> int:
    if route.access == "signed":
        return 401
    if caller.name in dict(route.expect) and caller.kind != "nobody":
        return dict(route.expect)[caller.name]
    if route.access == "public":
        return route.success
    if caller.kind == "nobody":
        return 401
    if route.access == "admin" and caller.kind != "admin":
        return 403
    return route.success


def forged_tokens(secret: str, account: Account) -> tuple[str, str]:
    """Two tokens with `account`'s claims that must not work: one signed with another secret,
    one signed with the app's secret but expired an hour ago."""
    claims = jwt.decode(account.token, options={"verify_signature": False})
    now = int(time.time())
    forged = {**claims, "jti": str(uuid.uuid4())}
    expired = {**claims, "jti": str(uuid.uuid4()), "iat": now - 7200, "exp": now - 3600}
    other_secret = "not-the-app-secret-" + "x" * 32
    return (
        jwt.encode(forged, other_secret, algorithm="HS256"),
        jwt.encode(expired, secret, algorithm="HS256"),
    )


def make_callers(
    secret: str, customer: Account, other_customer: Account, admin: Account
) -> list[Caller]:
    forged, expired = forged_tokens(secret, customer)
    return [
        Caller("anonymous", None, "nobody"),
        Caller("forged", forged, "nobody"),
        Caller("expired", expired, "nobody"),
        Caller("customer", customer.token, "customer"),
        Caller("other_customer", other_customer.token, "customer"),
        Caller("admin", admin.token, "admin"),
    ]


def assert_problem_on_4xx(response: httpx.Response) -> None:
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", "")
        assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
            f"{response.request.method} {response.request.url.path} -> "
            f"{response.status_code} with content-type {content_type!r}: {response.text}"
        )
        assert response.json()["status"] == response.status_code


async def fresh_world(db: asyncpg.Connection, customer: Account) -> World:
    product = await make_product(db, name=f"Lampe {uuid.uuid4().hex[:8]}", stock=50)
    bystanders = {name: await make_user(db) for name in CALLER_NAMES}
    # A customer keeps at most 20 addresses: each route's world starts from none.
    await db.execute("DELETE FROM addresses WHERE user_id = $1", customer.id)
    return World(
        product=product,
        order=await make_order(db, customer.id, lines={product: (1, Decimal("9.90"))}),
        bystanders=bystanders,
        customer=customer,
        refresh_tokens={name: await refresh_token(db, customer.id) for name in CALLER_NAMES},
        links={
            (name, purpose): await account_link(db, bystanders[name], purpose)
            for name in CALLER_NAMES
            for purpose in ("reset", "verify")
        },
        address=await db.fetchval(
            "INSERT INTO addresses (user_id, name, line1, postal_code, city, country)"
            " VALUES ($1, 'A', '1 rue A', '75001', 'Paris', 'FR') RETURNING id",
            customer.id,
        ),
        deleted_product=await db.fetchval(
            "INSERT INTO products (name, price, deleted_at) VALUES ('Gone', 1, now()) RETURNING id"
        ),
    )


async def account_link(db: asyncpg.Connection, user: uuid.UUID, purpose: str) -> str:
    """A link's token, written as a mail's link is."""
    token, digest = new_refresh_token()
    await db.execute(
        "INSERT INTO account_links (token_hash, user_id, purpose, expires_at)"
        " VALUES ($1, $2, $3, now() + interval '1 hour')",
        digest,
        user,
        purpose,
    )
    return token


async def refresh_token(db: asyncpg.Connection, user: uuid.UUID) -> str:
    """A login's refresh token, written as the login writes it."""
    token, digest = new_refresh_token()
    session = await db.fetchval("INSERT INTO sessions (user_id) VALUES ($1) RETURNING id", user)
    await db.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
        " VALUES ($1, $2, now() + interval '1 day')",
        digest,
        session,
    )
    return token


async def test_every_route_answers_each_caller_as_the_contract_says(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    other_customer: Account,
    admin: Account,
) -> None:
    accounts = [customer, other_customer, admin]
    wrong = []
    for route in ROUTES:
        callers = make_callers(app.state.jwt_secret, *accounts)
        world = await fresh_world(db, accounts[0])
        for caller in callers:
            body = route.body(world, caller) if route.body else None
            extra = route.headers() if route.headers else {}
            response = await client.request(
                route.method, route.url(world, caller), json=body, headers=caller.headers | extra
            )
            assert_problem_on_4xx(response)
            if response.status_code == 401:
                assert response.headers.get("www-authenticate") == "Bearer"
            if response.status_code != expected_status(route, caller):
                wrong.append(
                    f"{route.method} {route.path} as {caller.name}: expected "
                    f"{expected_status(route, caller)}, got {response.status_code} {response.text}"
                )
        if route.ends_token:
            # Logout, a password change and an erasure end the callers' tokens: sign them in
            # again (an erased account gets its address back first).
            for account in accounts:
                await db.execute(
                    "UPDATE users SET email = $2, erased_at = NULL WHERE id = $1",
                    account.id,
                    account.email,
                )
            await db.execute(
                "UPDATE users SET password_hash = $1 WHERE id = ANY($2::uuid[])",
                PASSWORD_HASH,
                [a.id for a in accounts],
            )
            accounts = [Account(a.id, a.email, await login(client, a.email)) for a in accounts]
    assert not wrong, "\n".join(wrong)


def declared_routes(routes: list[BaseRoute]) -> Iterator[tuple[str, str]]:
    """(method, path) for every route the app serves, included routers unrolled."""
    try:  # FastAPI >= 0.16x keeps included routers as one lazy entry each in app.routes.
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI lists the APIRoutes themselves
        contexts: Any = routes
    else:
        contexts = iter_route_contexts(routes)
    for route in contexts:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        original = getattr(route, "original_route", route)
        assert path is not None, f"a route without a path: {route!r}"
        if path in DOC_ROUTES and not getattr(original, "include_in_schema", False):
            continue
        # A mount or websocket has no methods: it needs a row (with method "*") all the same.
        for method in sorted(methods or {"*"}):
            if method == "HEAD" and "GET" in (methods or ()):
                continue  # Starlette's implicit HEAD for plain GET routes
            yield method, path


def test_every_route_has_a_row(app: FastAPI) -> None:
    served = list(declared_routes(app.routes))
    assert len(served) == len(set(served)), "a (method, path) served twice"
    table = [route.key for route in ROUTES]
    assert len(table) == len(set(table)), "a row listed twice"
    missing = sorted(set(served) - set(table))
    stale = sorted(set(table) - set(served))
    assert not missing, f"routes without a row in ROUTES (add one): {missing}"
    assert not stale, f"rows for routes the app does not serve: {stale}"


async def test_each_caller_sees_only_their_own_cart_and_profile(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    other_customer: Account,
    admin: Account,
) -> None:
    mine = await make_product(db, name="Théière", stock=5)
    theirs = await make_product(db, name="Bouilloire", stock=5)
    put = await client.put(f"/v1/cart/items/{mine}", json={"quantity": 2}, headers=customer.headers)
    assert put.status_code == 200, put.text
    put = await client.put(
        f"/v1/cart/items/{theirs}", json={"quantity": 1}, headers=other_customer.headers
    )
    assert put.status_code == 200, put.text

    async def cart_lines(account: Account) -> dict[str, int]:
        response = await client.get("/v1/cart", headers=account.headers)
        assert response.status_code == 200, response.text
        return {line["product_id"]: line["quantity"] for line in response.json()["items"]}

    assert await cart_lines(customer) == {str(mine): 2}
    assert await cart_lines(other_customer) == {str(theirs): 1}
    assert await cart_lines(admin) == {}

    # Removing "the same" line or emptying "the" cart only ever touches the caller's own cart.
    removed = await client.delete(f"/v1/cart/items/{mine}", headers=other_customer.headers)
    assert removed.status_code == 204
    emptied = await client.delete("/v1/cart", headers=admin.headers)
    assert emptied.status_code == 204
    assert await cart_lines(customer) == {str(mine): 2}
    assert await cart_lines(other_customer) == {str(theirs): 1}

    for account in (customer, other_customer, admin):
        me = await client.get("/v1/me", headers=account.headers)
        assert me.status_code == 200
        assert (me.json()["id"], me.json()["email"]) == (str(account.id), account.email)


@pytest.mark.parametrize("hidden", ["inactive", "deleted"])
async def test_hidden_products_are_404_except_for_admins(
    hidden: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    other_customer: Account,
    admin: Account,
) -> None:
    callers = make_callers(app.state.jwt_secret, customer, other_customer, admin)
    product = await make_product(db, active=hidden != "inactive")
    if hidden == "deleted":
        deleted = await client.delete(f"/v1/products/{product}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text

    for caller in callers:
        response = await client.get(f"/v1/products/{product}", headers=caller.headers)
        assert_problem_on_4xx(response)
        if caller.kind == "admin":
            assert response.status_code == 200, response.text
            shown = response.json()
            assert shown["id"] == str(product)
            if hidden == "inactive":
                assert shown["active"] is False
            else:
                assert shown["deleted_at"] is not None
        else:
            assert response.status_code == 404, (caller.name, response.text)

    # Nor do they show in the public list, whoever asks.
    for caller in callers:
        listed = await client.get("/v1/products", params={"limit": 100}, headers=caller.headers)
        assert listed.status_code == 200
        assert str(product) not in {p["id"] for p in listed.json()["items"]}
