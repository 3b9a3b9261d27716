"""What an operator sees of each request: its metrics at /metrics, its one log line, its id."""

import json
import re
from decimal import Decimal

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from comptoir.app import create_app
from comptoir.observability.logs import scrub
from comptoir.settings import Settings
from tests.factories import Account, make_cart, make_product

METRICS_TOKEN = "scrape-me-please-0123456789"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        series, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


async def scrape(client: httpx.AsyncClient, admin: Account) -> str:
    response = await client.get("/metrics", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_a_served_request_shows_in_the_metrics_with_its_route_and_status(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    product = await make_product(db, name="Lampe", stock=3)
    before = await scrape(client, admin)
    assert (await client.get(f"/v1/products/{product}")).status_code == 200
    nowhere = "/v1/products/00000000-0000-0000-0000-000000000000"
    assert (await client.get(nowhere)).status_code == 404
    # Readiness asks the pool itself (the requests above ran on the test's connection).
    assert (await client.get("/readyz")).status_code == 200
    after = await scrape(client, admin)

    route = {"method": "GET", "route": "/v1/products/{product_id}"}
    for status in ("200", "404"):
        name = "comptoir_http_requests_total"
        assert (
            sample(after, name, **route, status=status)
            == sample(before, name, **route, status=status) + 1
        )
        histogram = "comptoir_http_request_duration_seconds_count"
        assert sample(after, histogram, **route, status=status) >= 1
    # A path no route serves is one label, not one per path.
    await client.get("/no/such/page/123")
    await client.get("/openapi.json")
    scraped = await scrape(client, admin)
    assert sample(scraped, "comptoir_http_requests_total", route="<unmatched>", status="404")
    assert sample(scraped, "comptoir_http_requests_total", route="/openapi.json", status="200")
    # The pool reports its waits.
    assert sample(after, "comptoir_db_pool_wait_seconds_count") > 0


async def test_checkout_outcomes_are_counted(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    lamp = await make_product(db, name="Lampe", price=Decimal("10.00"), stock=2)
    await make_cart(db, customer.id, lines={lamp: 1})
    key = {"Idempotency-Key": "ops-metrics-1"}
    before = await scrape(client, admin)
    for _ in range(2):  # ordered, then the same key again: replayed
        await client.post("/v1/checkout", headers=customer.headers | key)
    put = await client.put(f"/v1/cart/items/{lamp}", json={"quantity": 1}, headers=customer.headers)
    assert put.status_code == 200, put.text
    await db.execute("UPDATE products SET stock = 0 WHERE id = $1", lamp)  # sold elsewhere
    short = await client.post(
        "/v1/checkout", headers=customer.headers | {"Idempotency-Key": "ops-metrics-2"}
    )
    assert short.status_code == 409
    after = await scrape(client, admin)
    name = "comptoir_checkout_outcomes_total"
    for outcome in ("ordered", "replayed", "short_of_stock"):
        assert sample(after, name, outcome=outcome) == sample(before, name, outcome=outcome) + 1


async def test_metrics_are_for_operators(
    app: FastAPI, client: httpx.AsyncClient, customer: Account, settings: Settings
) -> None:
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=customer.headers)).status_code == 403
    # A scraper's static token, when one is configured: no account, no database needed.
    configured = create_app(settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)}))
    async with configured.router.lifespan_context(configured):
        transport = httpx.ASGITransport(app=configured)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as scraper:
            scraper_token = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            good = await scraper.get("/metrics", headers=scraper_token)
            bad = await scraper.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert good.status_code == 200 and "comptoir_http_requests_total" in good.text
    assert bad.status_code == 401


async def test_the_request_id_round_trips_and_is_made_when_missing(
    client: httpx.AsyncClient,
) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert given.headers["x-request-id"] == "lb-7f3a.42"
    made = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert made.headers["x-request-id"] != (await client.get("/healthz")).headers["x-request-id"]
    # An id that could inject into logs or headers is replaced, not echoed.
    odd = await client.get("/healthz", headers={"X-Request-ID": 'a b"c' + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])
    # Errors carry it too.
    missing = await client.get("/v1/me", headers={"X-Request-ID": "err-1"})
    assert missing.status_code == 401 and missing.headers["x-request-id"] == "err-1"


def log_lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


async def test_one_json_line_per_request_without_secrets(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"log_format": "json", "slow_request_ms": 1}))
    card = "4111 1111 1111 1111"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            capsys.readouterr()
            await client.post(
                "/v1/auth/login",
                json={"email": "nobody@example.com", "password": "hunter2-secret"},
                headers={"X-Request-ID": "login-1", "Authorization": "Bearer eyJhbGciOi.x.y"},
            )
            await client.get(f"/v1/products/{card.replace(' ', '')}", headers={"X-Request-ID": "c"})
    captured = capsys.readouterr().err
    lines = log_lines(captured)
    login = next(line for line in lines if line.get("request_id") == "login-1")
    assert login["route"] == "/v1/auth/login" and login["method"] == "POST"
    assert login["status"] == 401 and isinstance(login["duration_ms"], float)
    assert login["slow"] is True and login["level"] == "warning"  # over the 1 ms threshold
    assert "hunter2" not in captured and "eyJhbGciOi" not in captured
    assert "4111111111111111" not in captured and "[redacted]" in captured


def test_card_numbers_and_tokens_are_scrubbed_from_any_text() -> None:
    assert scrub("paid with 4111-1111-1111-1111 ok") == "paid with [redacted] ok"
    assert scrub("4111111111111111") == "[redacted]"
    assert scrub("order 12345 of 3 items") == "order 12345 of 3 items"
    zero = "00000000-0000-0000-0000-000000000000"
    assert scrub(f"/v1/products/{zero}") == f"/v1/products/{zero}"
    assert "eyJ" not in scrub("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
