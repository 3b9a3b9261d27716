"""Liveness, readiness and the problem+json shape of errors the framework raises."""

import re
from pathlib import Path

import asyncpg
import httpx

from comptoir.app import create_app
from comptoir.db import migrate
from comptoir.db.schema import database_name, scratch_database
from comptoir.settings import Settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_the_schema_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_is_503_on_an_unmigrated_database(server_url: str, tmp_path: Path) -> None:
    async with scratch_database(server_url, prefix="comptoir_unmigrated") as url:
        app = create_app(Settings(database_url=url, data_dir=tmp_path, pool_min=0, pool_max=2))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "comptoir db upgrade" in response.json()["detail"]


async def test_readyz_tells_the_truth_when_the_database_goes(
    server_url: str, tmp_path: Path
) -> None:
    async with scratch_database(server_url, prefix="comptoir_gone") as url:
        await migrate.run_in_thread(migrate.upgrade, url)
        app = create_app(Settings(database_url=url, data_dir=tmp_path, pool_min=1, pool_max=2))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/readyz")).status_code == 200
                admin = await asyncpg.connect(server_url)
                try:
                    await admin.execute(f'DROP DATABASE "{database_name(url)}" WITH (FORCE)')
                finally:
                    await admin.close()
                response = await client.get("/readyz")
                assert response.status_code == 503
                assert response.json()["detail"] == "The database does not answer."
                assert (await client.get("/healthz")).status_code == 200


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


async def test_wrong_method_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Method Not Allowed"


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert {"/healthz", "/readyz"} <= set(schema["paths"])
    assert (await client.get("/docs")).status_code == 200


async def test_trailing_slash_does_not_redirect_to_the_callers_host(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/products/", headers={"Host": "evil.example"})
    assert "evil.example" not in response.headers.get("location", "")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_docs_work_offline(client: httpx.AsyncClient) -> None:
    """The docs pages load their scripts and styles from this server, not a CDN."""
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
        urls += re.findall(r"""url:\s*['"]([^'"]+)""", html)
        assert urls, page
        assert [u for u in urls if "//" in u] == [], page
        for url in urls:
            if url != "/openapi.json":
                asset = await client.get(url)
                assert asset.status_code == 200, url
                assert len(asset.content) > 1000, url
    assert "SwaggerUIBundle" in (await client.get("/docs")).text
