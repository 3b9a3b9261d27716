"""The password policy (NIST SP 800-63B): 8 to 256 characters, not whitespace only, not a
common password, not the email, its local part or the shop's name (nor those with only
digits and symbols around them); no composition rules. Register, password change and
`comptoir users create-admin` apply it, and a refusal names the rule."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner

from comptoir.app import create_app
from comptoir.auth.passwords import COMMON_PASSWORDS_MIN, common_passwords
from comptoir.cli import app as cli_app
from comptoir.settings import Settings
from tests.conftest import client_of, migrated_database
from tests.factories import PASSWORD, Account, login

EMAIL = "Jeanne.Dupont@example.com"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("password", "common"),
        ("12345678", "common"),
        ("Iloveyou1", "common"),  # case does not help
        (" " * 8, "spaces"),
        ("\t \u00a0 \u2003  \n", "spaces"),
        ("short", "8"),
        ("x" * 257, "256"),
        (EMAIL, "email"),
        ("jeanne.dupont@EXAMPLE.com", "email"),
        ("Jeanne.Dupont", "email"),
        ("jeanne.dupont1987!", "email"),
        ("Comptoir", "shop"),
        ("comptoir2024!", "shop"),
        ("  COMPTOIR ", "shop"),
    ],
)
async def test_registration_refuses_weak_passwords_naming_the_rule(
    client: httpx.AsyncClient, db: asyncpg.Connection, password: str, rule: str
) -> None:
    response = await client.post("/v1/auth/register", json={"email": EMAIL, "password": password})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert rule in (problem["detail"] + " ".join(e["msg"] for e in problem["errors"])).lower()
    assert ["body", "password"] in [e["loc"] for e in problem["errors"]]
    assert await db.fetchval("SELECT count(*) FROM users WHERE email = $1", EMAIL) == 0


@pytest.mark.parametrize(
    "password",
    [
        "comptoir-demo",  # contains the shop's name, is not it: the demo's password
        "comptoir-admin",
        "correct horse battery staple",
        "un mot de passe",
        "jeanne et son chat",
        "        x",  # spaces count; only spaces do not
        "pässwörd-ünïcode",
        "x" * 256,
    ],
)
async def test_registration_accepts_passwords_of_any_composition(
    client: httpx.AsyncClient, password: str
) -> None:
    response = await client.post("/v1/auth/register", json={"email": EMAIL, "password": password})
    assert response.status_code == 201, response.text
    await login(client, EMAIL, password)


async def test_password_change_applies_the_policy(
    client: httpx.AsyncClient, customer: Account
) -> None:
    for weak, rule in (("password1", "common"), (customer.email, "email"), ("customer1", "email")):
        response = await client.put(
            "/v1/me/password",
            json={"current_password": PASSWORD, "new_password": weak},
            headers=customer.headers,
        )
        assert response.status_code == 422, response.text
        assert rule in response.json()["detail"].lower()
    await login(client, customer.email, PASSWORD)  # unchanged, tokens too
    assert (await client.get("/v1/me", headers=customer.headers)).status_code == 200


async def test_the_shop_name_comes_from_the_settings(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, rate_limits="off", shop_name="Chez Nous"
    )
    app = create_app(settings)
    bodies = ["chez nous", "Chez Nous 2025", "comptoir!"]
    try:
        async with app.router.lifespan_context(app), client_of(app) as client:
            statuses = [
                (
                    await client.post(
                        "/v1/auth/register", json={"email": "shop@example.com", "password": p}
                    )
                ).status_code
                for p in bodies
            ]
    finally:
        await committed.execute("DELETE FROM users WHERE email = 'shop@example.com'")
    assert statuses == [422, 422, 422]


def test_the_common_list_ships_with_the_package() -> None:
    words = common_passwords()
    assert len(words) >= COMMON_PASSWORDS_MIN
    assert {"password", "12345678", "qwertyuiop", "iloveyou"} <= words
    assert all(len(w) >= 8 for w in words)


@pytest.fixture
def scratch(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "comptoir_policy") as url:
        yield url


def test_create_admin_applies_the_policy(scratch: str) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["--database-url", scratch, "users", "create-admin", "boss@example.com"],
        input="password\n",
    )
    assert result.exit_code == 2, result.output
    assert "common" in result.output.lower()

    async def count() -> int:
        conn = await asyncpg.connect(scratch)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM users"))  # a fresh database
        finally:
            await conn.close()

    assert asyncio.run(count()) == 0
