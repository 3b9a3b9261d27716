"""A storefront in a real browser: headless Chromium (Debian's package, driven through
/usr/bin/chromedriver by Selenium; nothing downloads a browser) loads a static page from
another origin on loopback, which calls the API with fetch().

CI installs the browser (.ci/run) and sets COMPTOIR_REQUIRE_BROWSER=1, so that there a
missing browser fails instead of skipping.
"""

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import pytest
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.factories import make_product
from tests.live import serving_app, serving_folder

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PAGE = Path(__file__).with_name("storefront.html")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "apt-get install chromium chromium-driver (Debian's packages)"
        if os.environ.get("COMPTOIR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no browser: {message}")
        pytest.skip(f"no browser: {message}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The storefront's page served from two origins: the shop's, and a stranger's."""
    shutil.copy(PAGE, tmp_path / "index.html")
    with serving_folder(tmp_path) as shop, serving_folder(tmp_path) as stranger:
        yield shop, stranger


def journey(driver: webdriver.Chrome, page: str) -> str:
    """Load the page and wait for its journey to end (the browser's own timeouts bound it)."""
    driver.get(page)
    WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "result").text != "running")
    result: str = driver.find_element(By.ID, "result").text
    return result


async def test_a_storefront_on_an_allowed_origin_runs_the_whole_journey(
    committed: asyncpg.Connection,
    browser: webdriver.Chrome,
    site: tuple[str, str],
    tmp_path: Path,
    database_url: str,
) -> None:
    shop, _ = site
    product = await make_product(committed, price=Decimal("12.50"), stock=5)
    app = shop_app(database_url, tmp_path, cors_origins=shop)
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    # The app serves until the beacon is checked: its request may still be on its way when
    # the page is done.
    with serving_app(app) as api:
        query = urlencode({"api": api, "product": str(product), "email": email})
        result = await asyncio.to_thread(journey, browser, f"{shop}/index.html?{query}")
        for _ in range(500):
            beacons = await committed.fetchval(
                "SELECT count(*) FROM analytics_events"
                " WHERE event_type = 'beacon' AND payload->>'email' = $1",
                email,
            )
            if beacons:
                break
            await asyncio.sleep(0.01)
    assert result.startswith("done "), result
    outcome = json.loads(result.removeprefix("done "))
    assert (outcome["status"], outcome["total"]) == ("pending", "25.00")
    # The retry's Idempotency-Replay header was readable from the page: exposed by CORS.
    assert outcome["replayed"] == "true"
    stock = await committed.fetchval("SELECT stock FROM products WHERE id = $1", product)
    assert stock == 3
    buyer = await committed.fetchval(
        "SELECT u.email::text FROM orders JOIN users AS u ON u.id = orders.user_id"
        " WHERE orders.id = $1",
        uuid.UUID(outcome["order"]),
    )
    assert buyer == email
    # The page's analytics beacon arrived, without CORS headers of its own.
    assert beacons == 1


async def test_the_same_page_from_an_origin_not_in_the_setting_is_refused(
    committed: asyncpg.Connection,
    browser: webdriver.Chrome,
    site: tuple[str, str],
    tmp_path: Path,
    database_url: str,
) -> None:
    shop, stranger = site
    product = await make_product(committed, stock=5)
    app = shop_app(database_url, tmp_path, cors_origins=shop)
    email = f"stranger-{uuid.uuid4().hex[:8]}@example.com"

    def run() -> str:
        with serving_app(app) as api:
            query = urlencode({"api": api, "product": str(product), "email": email})
            return journey(browser, f"{stranger}/index.html?{query}")

    result = await asyncio.to_thread(run)
    # The browser refused the preflight's answer: fetch() rejects, the page never sees a
    # status, and the registration was never sent.
    assert result.startswith("failed TypeError"), result
    assert await committed.fetchval("SELECT count(*) FROM users WHERE email = $1", email) == 0


def shop_app(database_url: str, data_dir: Path, **overrides: object) -> FastAPI:
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        pool_min=1,
        pool_max=4,
        rate_limits="off",
        pending_order_ttl_minutes=0,
        **overrides,  # type: ignore[arg-type]
    )
    return create_app(settings)
