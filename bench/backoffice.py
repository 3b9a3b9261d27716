"""Issue 20: how long each back office page takes to become usable on the demo shop.

A database filled by `comptoir demo` (1,000 products, 50 customers, their orders, 5,000
events), `comptoir serve` on it, and headless Chromium (Debian's package) signed in as the
demo admin. Each page is loaded from scratch (`about:blank` first, so the modules and the
API calls all run again), `--repeat` times; the figure is the time from the navigation's
start to the page's `comptoir:drawn:<page>` performance mark, set once its data is shown.
Target: every page under 1 second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from comptoir.db import migrate
from comptoir.demo import seed
from harness import bench_database, comptoir_server, say, server_url

PAGES = ["dashboard", "orders", "products", "customers", "leads", "analytics", "operations"]
TARGET_MS = 1000.0


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(driver: webdriver.Chrome, base: str) -> None:
    driver.get(f"{base}/admin/")
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#signin input[name=email]"))
    driver.find_element(By.NAME, "email").send_keys(seed.DEMO_ADMIN[0])
    driver.find_element(By.NAME, "password").send_keys(seed.DEMO_ADMIN[1])
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "main[data-ready]"))


def load_ms(driver: webdriver.Chrome, base: str, page: str) -> float:
    driver.get("about:blank")
    driver.get(f"{base}/admin/#/{page}")
    mark = f"comptoir:drawn:{page}"
    script = f"return performance.getEntriesByName({mark!r}).map(e => e.startTime)[0] ?? null"
    started: float = WebDriverWait(driver, 30).until(lambda d: d.execute_script(script))
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="loads per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = server_url(Path(tmp) / "pg")
        with bench_database(server) as url:
            migrate.upgrade(url)
            say("filling the demo shop")
            say(asyncio.run(seed.fill(url)))
            with comptoir_server(url, 1, Path(tmp)) as app:
                driver = browser()
                try:
                    sign_in(driver, app.base)
                    for page in PAGES:
                        load_ms(driver, app.base, page)  # warm: the server's first queries
                        times = sorted(load_ms(driver, app.base, page) for _ in range(args.repeat))
                        verdict = "met" if times[-1] < TARGET_MS else "NOT met"
                        print(
                            f"{page:<11} median {statistics.median(times):6.0f} ms"
                            f"  max {times[-1]:6.0f} ms  (target < {TARGET_MS:.0f} ms: {verdict})"
                        )
                finally:
                    driver.quit()


if __name__ == "__main__":
    main()
