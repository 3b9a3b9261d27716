"""The migration commands, run as an operator would, against a scratch database."""

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from typer.testing import CliRunner

from comptoir.cli import app
from comptoir.db import migrate
from tests.conftest import fresh_database


@pytest.fixture
def scratch(server_url: str) -> Iterator[str]:
    # The commands run their own event loops, as they do in a shell: these tests are sync.
    with fresh_database(server_url, "comptoir_cli") as url:
        yield url


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["--database-url", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_upgrade_current_downgrade(scratch: str) -> None:
    head = migrate.head_revision()
    assert "base (behind" in run(scratch, "db", "current")
    assert f"database at revision {head}" in run(scratch, "db", "upgrade")
    assert f"{head} (up to date)" in run(scratch, "db", "current")
    assert "database at revision base" in run(scratch, "db", "downgrade", "base")


def test_unreachable_server_is_one_line_and_exit_1() -> None:
    result = CliRunner().invoke(
        app, ["--database-url", "postgresql://nobody@127.0.0.1:1/none", "db", "current"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("error:")
    assert "Traceback" not in result.output


def test_help_works_with_a_bad_setting_and_commands_name_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMPTOIR_PORT", "not-a-port")
    helped = CliRunner().invoke(app, ["serve", "--help"])
    assert helped.exit_code == 0, helped.output
    assert "--port" in helped.output
    refused = CliRunner().invoke(app, ["db", "current"])
    assert refused.exit_code == 2
    assert refused.output.startswith("error: bad setting")
    assert "COMPTOIR_PORT" in refused.output


@pytest.mark.parametrize("option", [["--port", "70000"], ["--port", "0"], ["--workers", "0"]])
def test_serve_refuses_out_of_range_options_before_starting(option: list[str]) -> None:
    result = CliRunner().invoke(app, ["serve", *option])
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())  # however the box wraps it
    assert f"Invalid value for '{option[0]}'" in text


def test_create_admin_then_promote(scratch: str) -> None:
    run(scratch, "db", "upgrade")
    created = CliRunner().invoke(
        app,
        ["--database-url", scratch, "users", "create-admin", "Boss@Example.com"],
        input="a long enough password\n",
    )
    assert created.exit_code == 0, created.output
    assert "admin Boss@Example.com created" in created.output

    asyncio.run(_add_customer(scratch, "clerk@example.com"))
    promoted = CliRunner().invoke(
        app, ["--database-url", scratch, "users", "create-admin", "CLERK@example.com"]
    )
    assert promoted.exit_code == 0, promoted.output
    assert "now an admin" in promoted.output
    roles = asyncio.run(_roles(scratch))
    assert roles == {"Boss@Example.com": "admin", "clerk@example.com": "admin"}
    assert asyncio.run(_hash_of(scratch, "boss@example.com")).startswith("$argon2id$")


def test_set_password_gives_an_imported_account_a_way_in(scratch: str) -> None:
    run(scratch, "db", "upgrade")
    asyncio.run(_add_customer(scratch, "guest@example.com"))  # no password, like a guest's
    result = CliRunner().invoke(
        app, ["--database-url", scratch, "users", "set-password", "guest@example.com"],
        input="a long enough password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "password of guest@example.com set" in result.output
    assert asyncio.run(_hash_of(scratch, "guest@example.com")).startswith("$argon2id$")

    unknown = CliRunner().invoke(
        app, ["--database-url", scratch, "users", "set-password", "nobody@example.com"],
        input="a long enough password\n",
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert "no account with the email nobody@example.com" in unknown.output


def test_create_admin_refuses_a_short_password(scratch: str) -> None:
    run(scratch, "db", "upgrade")
    result = CliRunner().invoke(
        app, ["--database-url", scratch, "users", "create-admin", "a@example.com"], input="short\n"
    )
    assert result.exit_code == 2
    assert asyncio.run(_roles(scratch)) == {}


async def _add_customer(url: str, email: str) -> None:
    conn = await asyncpg.connect(url)
    await conn.execute("INSERT INTO users (email) VALUES ($1)", email)
    await conn.close()


async def _roles(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    rows = await conn.fetch("SELECT email::text, role::text FROM users")
    await conn.close()
    return {r["email"]: r["role"] for r in rows}


async def _hash_of(url: str, email: str) -> str:
    conn = await asyncpg.connect(url)
    value: str = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", email)
    await conn.close()
    return value


def test_demo_fills_an_empty_database_once(scratch: str) -> None:
    result = CliRunner().invoke(
        app, ["--database-url", scratch, "demo", "--products", "300", "--customers", "12"]
    )
    assert result.exit_code == 0, result.output
    assert "demo@comptoir.test" in result.output
    assert "300 products" in result.output
    counts = asyncio.run(_demo_counts(scratch))
    assert counts["products"] == 300 and counts["customers"] == 12
    assert counts["statuses"] == ["cancelled", "paid", "pending", "shipped"]
    assert counts["leads"] > 0 and counts["events"] > 0 and counts["carts"] > 0
    # Unpaid orders expire after an hour: the demo's are recent, so `serve` shows them.
    assert counts["pending_recent"] is True
    again = CliRunner().invoke(app, ["--database-url", scratch, "demo"])
    assert again.exit_code == 1
    assert "already has users or products" in again.output


async def _demo_counts(url: str) -> asyncpg.Record:
    conn = await asyncpg.connect(url)
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM products) AS products,"
        " (SELECT count(*) FROM users WHERE role = 'customer') AS customers,"
        " (SELECT array_agg(DISTINCT status::text ORDER BY status::text) FROM orders) AS statuses,"
        " (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM analytics_events) AS events,"
        " (SELECT count(*) FROM carts) AS carts,"
        " (SELECT bool_and(created_at > now() - interval '1 hour') FROM orders"
        "  WHERE status = 'pending') AS pending_recent"
    )
    await conn.close()
    assert row is not None  # scalar subqueries without FROM: always one row
    return row
