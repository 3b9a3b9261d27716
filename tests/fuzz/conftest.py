"""A live server per fuzzing module (uvicorn on a free port, the real app and pool), an admin
signed in through the API, and the app's OpenAPI document as schemathesis reads it."""

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from schemathesis import BaseSchema

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.conftest import TABLES
from tests.factories import PASSWORD, Account, make_user
from tests.fuzz.fuzzing import Live, on_database
from tests.live import serving_app


@pytest.fixture(scope="module")
def live(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real app on uvicorn, in a thread with its own event loop, on a free local port.
    Everything the run committed is truncated at the end."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("schemathesis"),
        pool_min=1,
        pool_max=10,
        rate_limits="off",
    )
    app = create_app(settings)
    try:
        with serving_app(app) as url:
            yield Live(url, app.state.jwt_secret, database_url)
    finally:
        on_database(database_url, lambda conn: conn.execute(f"TRUNCATE {TABLES} CASCADE"))


@pytest.fixture(scope="module")
def admin(live: Live) -> Account:
    """An admin, logged in through the API."""
    email = "fuzz-admin@example.com"
    user = on_database(live.database_url, lambda conn: make_user(conn, email=email, role="admin"))
    response = httpx.post(
        f"{live.url}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return Account(user, email, response.json()["access_token"])


@pytest.fixture(scope="module")
def api_schema(live: Live) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")
