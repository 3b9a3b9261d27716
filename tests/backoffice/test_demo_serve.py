"""What the README promises a newcomer: `comptoir demo`, then `comptoir serve`, and the back
office at /admin/ takes the demo admin's credentials. On the embedded server, as a newcomer
runs it (no DATABASE_URL)."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from comptoir.demo.seed import DEMO_ADMIN
from tests.test_serve import Shop, data_dir  # noqa: F401 - data_dir is a fixture

README = Path(__file__).parents[2] / "README.md"


def test_demo_then_serve_shows_the_back_office_to_the_demo_admin(data_dir: Path) -> None:  # noqa: F811
    readme = README.read_text()
    assert "/admin/" in readme and f"`{DEMO_ADMIN[0]}` / `{DEMO_ADMIN[1]}`" in readme
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["COMPTOIR_DATA_DIR"] = str(data_dir)
    demo = [sys.executable, "-m", "comptoir", "demo", "--products", "40", "--customers", "5"]
    filled = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=300)
    assert filled.returncode == 0, filled.stdout + filled.stderr
    assert DEMO_ADMIN[0] in filled.stdout

    shop = Shop(data_dir)
    shop.wait_ready()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{shop.port}") as browser:
            page = browser.get("/admin/")
            assert page.status_code == 200 and "/admin/assets/app.js" in page.text
            signed = browser.post(
                "/v1/auth/session", json={"email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]}
            )
            assert signed.status_code == 200, signed.text
            board = browser.get("/v1/admin/dashboard")
            assert board.status_code == 200 and board.json()["month"]["orders"] > 0
    finally:
        output = shop.stop()
    assert f"http://localhost:{shop.port}/admin/" in output
