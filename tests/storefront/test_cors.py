"""CORS: the origins named in COMPTOIR_CORS_ORIGINS may call the API from a browser, with a
preflight the browser caches; other origins get no CORS headers, which the browser enforces
(the real browser's view is tests/storefront/test_browser.py)."""

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from comptoir.app import create_app
from comptoir.settings import SettingsError, load_settings
from tests.conftest import client_of
from tests.storefront.test_browser import shop_app

SHOP = "https://shop.example.com"


def preflight(origin: str, method: str = "POST", headers: str = "content-type") -> dict[str, Any]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


async def test_a_configured_origin_passes_the_preflight_and_reads_answers(
    committed: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    app = shop_app(database_url, tmp_path, cors_origins=f"{SHOP}, http://127.0.0.1:8080")
    async with app.router.lifespan_context(app), client_of(app) as client:
        response = await client.options(
            "/v1/checkout", headers=preflight(SHOP, "POST", "authorization,idempotency-key")
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == SHOP
        assert response.headers["access-control-max-age"] == "600"
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "idempotency-key" in allowed and "authorization" in allowed
        # An answer, a problem included, carries the header the browser needs to read it.
        refused = await client.get("/v1/me", headers={"Origin": SHOP})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == SHOP
        assert "idempotency-replay" in refused.headers["access-control-expose-headers"].lower()


async def test_another_origin_gets_no_cors_headers(
    committed: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    app = shop_app(database_url, tmp_path, cors_origins=SHOP)
    async with app.router.lifespan_context(app), client_of(app) as client:
        response = await client.options("/v1/auth/login", headers=preflight("https://evil.test"))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        plain = await client.get("/v1/products", headers={"Origin": "https://evil.test"})
        assert plain.status_code == 200
        assert "access-control-allow-origin" not in plain.headers


async def test_no_origin_is_allowed_by_default(
    committed: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    app = shop_app(database_url, tmp_path)
    async with app.router.lifespan_context(app), client_of(app) as client:
        response = await client.options("/v1/auth/login", headers=preflight(SHOP))
        assert response.status_code == 405
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "value", ["*", "https://shop.example.com/", "shop.example.com", "https://a.test/path"]
)
def test_a_setting_that_is_not_a_list_of_origins_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="COMPTOIR_CORS_ORIGINS"):
        load_settings(cors_origins=value)


def test_create_app_accepts_origins_with_ports(tmp_path: Path) -> None:
    settings = load_settings(
        cors_origins="http://127.0.0.1:5173,https://shop.test", data_dir=tmp_path
    )
    assert settings.cors_origin_list() == ["http://127.0.0.1:5173", "https://shop.test"]
    create_app(settings)
