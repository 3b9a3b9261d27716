"""The back office in a real browser: headless Chromium (Debian's package, through
/usr/bin/chromedriver; nothing downloads a browser) on the demo shop, served by uvicorn.

One database (migrated, then filled by `comptoir demo`), one server and one browser for the
whole module: the tests run one after the other in it, in any order, each from the state
the others leave (they pick their orders and products by what is there).

With COMPTOIR_SCREENSHOTS=1 the tests also write docs/back-office/*.png; CI leaves the
tracked files alone.
"""

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from comptoir.app import create_app
from comptoir.demo import seed
from comptoir.settings import Settings
from tests.conftest import migrated_database
from tests.live import serving_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(__file__).parents[2] / "docs" / "back-office"
ADMIN, CUSTOMER = seed.DEMO_ADMIN, seed.DEMO_CUSTOMER
# A payload that sets the flag if the page ever parses a value as HTML and runs it.
# (No double quotes: the event's payload is shown as JSON, which would escape them.)
XSS = "<img src=x onerror=window.__pwned=1><script>window.__pwned=1</script>"
WAIT = 20


@dataclass(frozen=True)
class Shop:
    url: str
    api: httpx.Client  # signed in as the demo admin, by bearer token
    downloads: Path


@pytest.fixture(scope="module")
def shop(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    data_dir = tmp_path_factory.mktemp("backoffice")
    with migrated_database(server_url, "comptoir_backoffice") as url:
        asyncio.run(seed.fill(url, products=300, customers=30))
        settings = Settings(
            database_url=url,
            data_dir=data_dir,
            pool_min=1,
            pool_max=4,
            rate_limits="off",
            pending_order_ttl_minutes=0,
        )
        with serving_app(create_app(settings)) as base, httpx.Client(base_url=base) as api:
            login = api.post("/v1/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
            api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            yield Shop(base, api, data_dir / "downloads")


@pytest.fixture(scope="module")
def browser(shop: Shop) -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "apt-get install chromium chromium-driver (Debian's packages)"
        if os.environ.get("COMPTOIR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no browser: {message}")
        pytest.skip(f"no browser: {message}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    shop.downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(shop.downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(shop.downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: webdriver.Chrome, condition: Any) -> Any:
    # A page draws itself again after an action: an element found a moment ago may be gone.
    return WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
        condition
    )


def find(driver: webdriver.Chrome, css: str) -> WebElement:
    element: WebElement = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css))
    return element


def sign_in(driver: webdriver.Chrome, shop: Shop, email: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{shop.url}/admin/")
    find(driver, "#signin input[name=email]").send_keys(email)
    # Enter in the password field submits, as a keyboard user signs in.
    find(driver, "#signin input[name=password]").send_keys(password, Keys.ENTER)


def visit(driver: webdriver.Chrome, shop: Shop, route: str) -> WebElement:
    """Open `#/route` signed in as the demo admin, and wait until the page is drawn."""
    if not driver.get_cookie("comptoir_session"):
        sign_in(driver, shop, *ADMIN)
        find(driver, "main[data-ready]")
    target = f"#/{route}"
    driver.get(f"{shop.url}/admin/{target}")
    main: WebElement = wait(
        driver, lambda d: d.find_element(By.CSS_SELECTOR, f'main[data-route="{target}"]')
    )
    return main


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    if os.environ.get("COMPTOIR_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / f"{name}.png"))


def confirm(driver: webdriver.Chrome) -> None:
    find(driver, "dialog[open] #confirm-yes").click()


def test_signing_in_and_out(browser: webdriver.Chrome, shop: Shop) -> None:
    browser.delete_all_cookies()
    browser.get(f"{shop.url}/admin/")
    find(browser, "#signin")
    # Keyboard first: the email field has the focus.
    assert browser.execute_script("return document.activeElement.name") == "email"
    sign_in(browser, shop, "nobody@comptoir.test", "wrong password")
    wait(browser, lambda d: "Wrong email or password" in d.find_element(By.ID, "signin").text)
    screenshot(browser, "sign-in")
    sign_in(browser, shop, *ADMIN)
    assert find(browser, "#who").text == ADMIN[0]
    cookie = browser.get_cookie("comptoir_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # No script of the page can read the token.
    assert "comptoir_session" not in browser.execute_script("return document.cookie")
    find(browser, "#signout").click()
    wait(browser, lambda d: "signed out" in d.find_element(By.ID, "signin").text)
    assert browser.get_cookie("comptoir_session") is None
    # The token the browser held is dead on the server too.
    kept = httpx.get(f"{shop.url}/v1/me", cookies={"comptoir_session": cookie["value"]})
    assert kept.status_code == 401


def test_a_customer_is_refused(browser: webdriver.Chrome, shop: Shop) -> None:
    sign_in(browser, shop, *CUSTOMER)
    feedback = find(browser, "#signin-feedback [role=alert]")
    assert "not an administrator" in feedback.text
    assert browser.get_cookie("comptoir_session") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "nav")


def test_the_dashboard_shows_what_the_api_returns(browser: webdriver.Chrome, shop: Shop) -> None:
    main = visit(browser, shop, "dashboard")
    board = shop.api.get("/v1/admin/dashboard").json()
    shown = {
        key: main.find_element(By.ID, key).get_attribute("data-value")
        for key in ("today-orders", "today-revenue", "month-orders", "month-revenue")
    }
    assert shown == {
        "today-orders": str(board["today"]["orders"]),
        "today-revenue": board["today"]["revenue"],
        "month-orders": str(board["month"]["orders"]),
        "month-revenue": board["month"]["revenue"],
    }
    # The demo shop has orders today (its pending ones), and money is shown as money.
    assert board["today"]["orders"] > 0
    assert "€" in main.find_element(By.ID, "month-revenue").text
    for status, count in board["by_status"].items():
        element = main.find_element(By.CSS_SELECTOR, f'[data-status="{status}"]')
        assert element.get_attribute("data-value") == str(count)
    low = main.find_element(By.CSS_SELECTOR, "[aria-labelledby=low-stock] tbody tr")
    assert board["low_stock"][0]["name"] in low.text
    # Three charts: orders, revenue, events by type (from the daily rollup).
    assert len(main.find_elements(By.CSS_SELECTOR, "svg.chart")) == 3
    screenshot(browser, "dashboard")


def first_order(shop: Shop, status: str) -> dict[str, Any]:
    page = shop.api.get("/v1/admin/orders", params={"status": status, "limit": 1}).json()
    order: dict[str, Any] = page["items"][0]
    return order


def move(browser: webdriver.Chrome, shop: Shop, order_id: str, target: str) -> None:
    visit(browser, shop, f"orders/{order_id}")
    find(browser, f'[data-move="{target}"]').click()
    confirm(browser)
    wait(browser, lambda d: d.find_element(By.ID, "order-status-now").text == target)


def test_shipping_an_order_and_cancelling_another_puts_its_stock_back(
    browser: webdriver.Chrome, shop: Shop
) -> None:
    visit(browser, shop, "orders?status=paid")
    screenshot(browser, "orders")
    paid = first_order(shop, "paid")
    move(browser, shop, paid["id"], "shipped")
    screenshot(browser, "order")
    shipped = shop.api.get(f"/v1/admin/orders/{paid['id']}").json()
    assert shipped["status"] == "shipped"
    # The payment's state as the API has it (the demo's orders were paid before payments
    # had a provider: "none").
    assert browser.find_element(By.ID, "payment-status").text == shipped["payment"]["status"]

    pending = first_order(shop, "pending")
    line = pending["items"][0]
    before = shop.api.get(f"/v1/products/{line['product_id']}").json()["stock"]
    move(browser, shop, pending["id"], "cancelled")
    main = visit(browser, shop, f"products/{line['product_id']}")
    stock = main.find_element(By.ID, "product-stock")
    assert stock.get_attribute("data-value") == str(before + line["quantity"])
    screenshot(browser, "product")


def test_creating_a_product_with_images_and_attributes(
    browser: webdriver.Chrome, shop: Shop
) -> None:
    name = f"Théière en fonte {uuid.uuid4().hex[:6]}"
    visit(browser, shop, "products/new")
    form = find(browser, "#product-form")
    form.find_element(By.NAME, "name").send_keys(name)
    form.find_element(By.NAME, "price").send_keys("39.90")
    stock = form.find_element(By.NAME, "stock")
    stock.clear()
    stock.send_keys("12")
    images = ["https://cdn.example.com/teapot-1.jpg", "https://cdn.example.com/teapot-2.jpg"]
    form.find_element(By.NAME, "images").send_keys("\n".join(images))
    form.find_element(By.NAME, "attributes").send_keys("colour: black\nlitres: 1.2")
    screenshot(browser, "product-new")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: d.find_element(By.ID, "product-title").text == name)
    product_id = browser.execute_script("return location.hash").rsplit("/", 1)[1]
    product = shop.api.get(f"/v1/products/{product_id}").json()
    assert product["images"] == images
    assert product["attributes"]["colour"] == "black"
    assert product["attributes"]["litres"] == 1.2
    assert product["stock"] == 12
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#product-images a")] == images


def test_restoring_a_deleted_product(browser: webdriver.Chrome, shop: Shop) -> None:
    created = shop.api.post("/v1/products", json={"name": "Lampe oubliée", "price": "19.90"})
    product_id = created.json()["id"]
    assert shop.api.delete(f"/v1/products/{product_id}").status_code == 204
    visit(browser, shop, "products?state=deleted")
    screenshot(browser, "products-deleted")
    main = visit(browser, shop, f"products/{product_id}")
    assert main.find_element(By.ID, "product-state").text == "deleted"
    find(browser, "#restore").click()
    wait(browser, lambda d: d.find_element(By.ID, "product-state").text == "active")
    assert shop.api.get(f"/v1/products/{product_id}").json()["deleted_at"] is None


def test_exporting_leads_as_csv(browser: webdriver.Chrome, shop: Shop) -> None:
    visit(browser, shop, "leads")
    screenshot(browser, "leads")
    target = shop.downloads / "leads.csv"
    target.unlink(missing_ok=True)
    find(browser, "#leads-csv").click()
    wait(browser, lambda d: "leads.csv saved" in d.find_element(By.ID, "leads-feedback").text)
    deadline = time.monotonic() + WAIT
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    exported = target.read_text(encoding="utf-8-sig").splitlines()
    expected = shop.api.get("/v1/admin/leads", headers={"Accept": "text/csv"}).text.splitlines()
    assert exported == expected
    assert exported[0].startswith("id,") and len(exported) > 100


def test_markup_in_a_product_a_lead_and_an_event_is_shown_as_text(
    browser: webdriver.Chrome, shop: Shop
) -> None:
    product = shop.api.post("/v1/products", json={"name": XSS, "price": "1.00", "stock": 0})
    assert product.status_code == 201, product.text
    lead = {"name": XSS, "email": "xss@example.com", "message": f"Hello {XSS}"}
    assert shop.api.post("/v1/leads", json=lead).status_code == 201
    event = {"event_type": "xss_probe", "payload": {"html": XSS}}
    assert shop.api.post("/v1/events", json=event).status_code == 202
    pages = [
        (f"products/{product.json()['id']}", "#product-title"),
        ("dashboard", "[aria-labelledby=low-stock]"),
        ("leads?email=xss%40example.com", "main table"),
        ("analytics?type=xss_probe", "main table"),
    ]
    for route, where in pages:
        main = visit(browser, shop, route)
        assert XSS in main.find_element(By.CSS_SELECTOR, where).text, route
        assert not main.find_elements(By.CSS_SELECTOR, "main img, main table script"), route
        assert browser.execute_script("return window.__pwned") is None, route
    screenshot(browser, "analytics")


def test_the_page_is_served_with_its_content_security_policy(shop: Shop) -> None:
    response = httpx.get(f"{shop.url}/admin/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_every_page_draws_without_an_error(browser: webdriver.Chrome, shop: Shop) -> None:
    for route in ("customers", "products", "analytics", "operations"):
        main = visit(browser, shop, route)
        assert not main.find_elements(By.CSS_SELECTOR, "[role=alert]"), route
        screenshot(browser, route)
    # Readable on a phone: nothing wider than the screen but the tables' own scrolling.
    browser.set_window_size(390, 844)
    try:
        for route in ("dashboard", "orders"):
            visit(browser, shop, route)
            overflow = "return document.documentElement.scrollWidth - window.innerWidth"
            assert browser.execute_script(overflow) <= 0, route
        screenshot(browser, "phone-orders")
    finally:
        browser.set_window_size(1280, 900)
    customer = visit(browser, shop, f"customers?email={CUSTOMER[0]}")
    customer.find_element(By.LINK_TEXT, CUSTOMER[0]).click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == CUSTOMER[0])
    screenshot(browser, "customer")
    # Nothing the page did was refused by the CSP or failed in a script.
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")  # type: ignore[no-untyped-call]
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]
    assert errors == []
