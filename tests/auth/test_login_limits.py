"""Who a request comes from, for the rate limits, and the per-account login limit.

The client address is the peer's, unless the peer is a proxy named in
COMPTOIR_TRUSTED_PROXIES: then it is the last address in X-Forwarded-For that is not a
trusted proxy. Failed logins are also limited per account, whatever the address, without
locking the customer out of the addresses they logged in from before.
"""

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from comptoir import cli
from comptoir.app import create_app
from comptoir.observability import metrics
from comptoir.settings import SettingsError, load_settings
from tests.conftest import client_of, limited_settings, migrated_database
from tests.factories import PASSWORD, make_user

BAD = {"email": "nobody@example.com", "password": "whatever1"}


Login = tuple[str, dict[str, str], dict[str, str]]  # peer, headers, body


async def statuses(app: Any, calls: list[Login]) -> list[int]:
    """Log in once per (peer, headers, body), in order; the status of each."""
    answers = []
    for peer, headers, body in calls:
        async with client_of(app, (peer, 5000)) as client:
            response = await client.post("/v1/auth/login", json=body, headers=headers)
            answers.append(response.status_code)
    return answers


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def test_forwarded_for_is_ignored_by_default(database_url: str, tmp_path: Path) -> None:
    """Without trusted proxies, an address in X-Forwarded-For is the caller's say-so."""
    app = create_app(limited_settings(database_url, tmp_path, auth_rate_limit="3/minute"))
    async with app.router.lifespan_context(app):
        spoofed = [("127.0.0.1", forwarded(f"203.0.113.{i}"), BAD) for i in range(4)]
        assert await statuses(app, spoofed) == [401, 401, 401, 429]


async def test_a_trusted_proxy_gives_each_client_its_own_bucket(
    database_url: str, tmp_path: Path
) -> None:
    settings = limited_settings(
        database_url, tmp_path, auth_rate_limit="2/minute", trusted_proxies="10.0.0.0/8, ::1"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # Through the proxy: the client is the last address it added, whatever came before
        # (a client may send its own X-Forwarded-For, which the proxy appends to).
        via_proxy = [
            ("10.1.2.3", forwarded("203.0.113.5"), BAD),
            ("10.9.9.9", forwarded("192.0.2.1, 203.0.113.5"), BAD),
            ("10.1.2.3", forwarded("203.0.113.5"), BAD),
            ("10.1.2.3", forwarded("203.0.113.6"), BAD),
            ("::1", forwarded("203.0.113.7, 10.4.4.4"), BAD),
        ]
        assert await statuses(app, via_proxy) == [401, 401, 429, 401, 401]
        # Straight from the internet, X-Forwarded-For counts for nothing.
        direct = [("198.51.100.1", forwarded(f"203.0.113.{50 + i}"), BAD) for i in range(3)]
        assert await statuses(app, direct) == [401, 401, 429]


@pytest.mark.parametrize("value", ["*", "not-an-address", "10.0.0.0/33"])
def test_trusted_proxies_must_be_addresses_or_networks(value: str) -> None:
    with pytest.raises(SettingsError, match="COMPTOIR_TRUSTED_PROXIES"):
        load_settings(trusted_proxies=value)


@pytest.fixture
def serve_database(server_url: str) -> Iterator[str]:
    with migrated_database(server_url, "comptoir_serve_proxies") as url:
        yield url


def served_with(monkeypatch: pytest.MonkeyPatch, url: str, **env: str) -> dict[str, Any]:
    """What `comptoir serve` hands uvicorn (uvicorn itself not started)."""
    captured: dict[str, Any] = {}
    # The modules `serve` imports, patched where it finds them when it runs.
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: captured.update(kw))
    monkeypatch.setattr(signal, "signal", lambda *a: None)
    monkeypatch.setattr(metrics, "share_between_workers", lambda workers: None)
    monkeypatch.setenv("DATABASE_URL", url)  # serve sets it for its workers; restored after
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli.app, ["--database-url", url, "serve", "--no-migrate"])
    assert result.exit_code == 0, result.output
    return captured


@pytest.fixture
def default_serve_options(serve_database: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # Sync: the command runs its own event loops, as in a shell.
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    return served_with(monkeypatch, serve_database)


async def test_serve_trusts_no_proxy_headers_by_default(
    default_serve_options: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: exactly where a
    reverse proxy sits, so every login could claim its own address."""
    options = default_serve_options
    app = create_app(limited_settings(database_url, tmp_path, auth_rate_limit="3/minute"))
    config = uvicorn.Config(
        app,
        proxy_headers=options.get("proxy_headers", True),
        forwarded_allow_ips=options.get("forwarded_allow_ips"),
    )
    config.load()  # wraps the app in uvicorn's own middleware, as `serve` would run it
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=config.loaded_app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://comptoir.test") as c:
            answers = [
                (await c.post("/v1/auth/login", json=BAD, headers=forwarded(f"203.0.113.{i}")))
                for i in range(4)
            ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]


def test_serve_hands_uvicorn_the_trusted_proxies(
    serve_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = served_with(
        monkeypatch, serve_database, COMPTOIR_TRUSTED_PROXIES="10.0.0.1, 192.168.0.0/16"
    )
    assert named["proxy_headers"] is True
    assert named["forwarded_allow_ips"] == ["10.0.0.1", "192.168.0.0/16"]


async def test_failed_logins_are_limited_per_account_across_addresses(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    """A botnet (one guess per address) meets the account's limit; unknown emails alike,
    so the limit does not tell which accounts exist."""
    await make_user(committed, email="target@example.com")
    settings = limited_settings(database_url, tmp_path, login_account_rate_limit="3/minute")
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            for email in ("target@example.com", "Nobody-Here@example.com"):
                wrong = {"email": email, "password": "guess-guess"}
                guesses: list[Login] = [(f"203.0.113.{i}", {}, wrong) for i in range(5)]
                assert await statuses(app, guesses) == [401, 401, 401, 429, 429], email
            # Another account is not affected.
            assert await statuses(app, [("203.0.113.99", {}, BAD)]) == [401]
    finally:
        await committed.execute("DELETE FROM users WHERE email = 'target@example.com'")


async def test_an_attacker_cannot_lock_the_customer_out_of_their_usual_address(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> None:
    await make_user(committed, email="victim@example.com")
    settings = limited_settings(database_url, tmp_path, login_account_rate_limit="3/minute")
    app = create_app(settings)
    right = {"email": "victim@example.com", "password": PASSWORD}
    wrong = {"email": "victim@example.com", "password": "guess-guess"}
    try:
        async with app.router.lifespan_context(app):
            # Successes spend nothing of the account's budget.
            home: list[Login] = [("198.51.100.7", {}, right)] * 4
            assert await statuses(app, home) == [200] * 4
            attack: list[Login] = [(f"203.0.113.{i}", {}, wrong) for i in range(4)]
            assert await statuses(app, attack) == [401, 401, 401, 429]
            # From home, the customer still gets in; from a new address, not until the
            # window passes (the documented trade-off).
            after: list[Login] = [("198.51.100.7", {}, right), ("192.0.2.44", {}, right)]
            assert await statuses(app, after) == [200, 429]
    finally:
        await committed.execute("DELETE FROM users WHERE email = 'victim@example.com'")
