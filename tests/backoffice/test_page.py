"""The page at /admin/ and its assets: served from the package, with a strict CSP; the
Operations page's database statistics."""

import re
from pathlib import Path

import httpx

from tests.factories import Account

STATIC = Path(__file__).parents[2] / "src" / "comptoir" / "backoffice" / "static"


async def test_the_page_carries_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/admin/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_admin_without_the_slash_leads_to_the_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin")
    assert (response.status_code, response.headers["location"]) == (308, "/admin/")


async def test_every_module_the_page_imports_is_served(client: httpx.AsyncClient) -> None:
    """Follow the imports from the entry module: a file missing from the package (or from
    pyproject's package data) would leave the page blank."""
    seen, queue = set(), ["/admin/assets/app.js", "/admin/assets/style.css"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = await client.get(url)
        assert response.status_code == 200, url
        assert "content-security-policy" in response.headers
        folder = url.rsplit("/", 1)[0]
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', response.text):
            parts = (folder + "/" + target).split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            queue.append("/".join(resolved))
    assert len(seen) == len(list(STATIC.rglob("*.js"))) + 1


async def test_no_file_outside_the_assets_is_served(client: httpx.AsyncClient) -> None:
    for path in (
        "/admin/assets/..%2Frouter.py",
        "/admin/assets/pages/..%2F..%2Fsettings.py",
        "/admin/assets/index.html",
        "/admin/assets/missing.js",
    ):
        assert (await client.get(path)).status_code == 404, path


def test_the_page_has_no_inline_script_style_or_html_injection() -> None:
    """What the CSP would block anyway, kept out of the sources: inline handlers and styles,
    and the DOM sinks that parse strings as HTML or code."""
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "style=" not in html and "<style" not in html
    for source in STATIC.rglob("*.js"):
        text = source.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{source.name} uses {sink}"
        assert "new Function" not in text and ".style." not in text


async def test_db_stats_for_the_operations_page(client: httpx.AsyncClient, admin: Account) -> None:
    response = await client.get("/v1/admin/db/stats", headers=admin.headers)
    assert response.status_code == 200, response.text
    titles = [s["title"] for s in response.json()["sections"]]
    assert "Dead tuples and last vacuum" in titles and "Partitions" in titles
    partitions = next(s for s in response.json()["sections"] if s["title"] == "Partitions")
    assert any(row["parent"] == "analytics_events" for row in partitions["rows"])
