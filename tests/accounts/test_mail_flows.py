"""Password reset, email verification and email change, end to end: the app mails through a
real SMTP server on loopback, and the tests follow the link in the mail that arrived."""

import asyncio
from pathlib import Path

import asyncpg
import pytest

from comptoir.mail import queries as mail_queries
from tests.accounts.conftest import (
    Inbox,
    html_of,
    link_token,
    mail_settings,
    running,
    smtp_server,
    text_of,
)
from tests.factories import PASSWORD, make_product, make_user
from tests.support.ports import free_port

NEW_PASSWORD = "a new password, chosen"


async def test_a_reset_link_works_once_then_never(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "forgetful@example.com"
    await make_user(committed, email=address)
    async with running(mail_settings(database_url, tmp_path, smtp_port)) as (_, client):
        old = await client.post("/v1/auth/login", json={"email": address, "password": PASSWORD})
        asked = await client.post("/v1/auth/password-reset", json={"email": address})
        assert asked.status_code == 202
        (mail,) = await inbox.wait_for(address)
        assert mail["Subject"] == "La Boutique: reset your password"
        assert mail["From"] == "Boutique <shop@example.com>"
        assert "La Boutique" in text_of(mail) and "La Boutique" in html_of(mail)
        token = link_token(mail, "/reset-password")
        # The token is stored hashed: the database never holds the link's secret.
        dump = await committed.fetch("SELECT token_hash::text FROM account_links")
        assert token not in str(dump)

        reset = {"token": token, "new_password": NEW_PASSWORD}
        assert (await client.post("/v1/auth/password-reset/confirm", json=reset)).status_code == 204
        again = await client.post(
            "/v1/auth/password-reset/confirm", json={**reset, "new_password": "yet another one"}
        )
        assert again.status_code == 400
        assert again.headers["content-type"] == "application/problem+json"

        login = await client.post(
            "/v1/auth/login", json={"email": address, "password": NEW_PASSWORD}
        )
        assert login.status_code == 200
        stale = await client.post("/v1/auth/login", json={"email": address, "password": PASSWORD})
        assert stale.status_code == 401
        # The sessions opened with the old password are over.
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": old.json()["refresh_token"]}
        )
        assert refreshed.status_code == 401
        # And the owner is told their password changed.
        notices = await inbox.wait_for(address, 2)
        assert notices[1]["Subject"] == "La Boutique: your password was changed"


async def test_reset_answers_the_same_whether_or_not_the_account_exists(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    await make_user(committed, email="known@example.com")
    async with running(mail_settings(database_url, tmp_path, smtp_port)) as (_, client):
        unknown = await client.post("/v1/auth/password-reset", json={"email": "nobody@example.com"})
        known = await client.post("/v1/auth/password-reset", json={"email": "known@example.com"})
        assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
        await inbox.wait_for("known@example.com")
    # The sender goes in order: the later mail arrived, the unknown address got none.
    assert [m["To"] for m in inbox.messages] == ["known@example.com"]


async def test_an_expired_reset_link_is_refused(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "late@example.com"
    await make_user(committed, email=address)
    async with running(mail_settings(database_url, tmp_path, smtp_port)) as (_, client):
        await client.post("/v1/auth/password-reset", json={"email": address})
        token = link_token((await inbox.wait_for(address))[0], "/reset-password")
        await committed.execute("UPDATE account_links SET expires_at = now() - interval '1 s'")
        response = await client.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 400
        login = await client.post("/v1/auth/login", json={"email": address, "password": PASSWORD})
        assert login.status_code == 200


async def test_an_expired_verification_link_is_refused(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "slow@example.com"
    async with running(mail_settings(database_url, tmp_path, smtp_port)) as (_, client):
        registered = await client.post(
            "/v1/auth/register", json={"email": address, "password": NEW_PASSWORD}
        )
        assert registered.status_code == 201
        token = link_token((await inbox.wait_for(address))[0], "/verify-email")
        await committed.execute("UPDATE account_links SET expires_at = now() - interval '1 s'")
        assert (
            await client.post("/v1/auth/verify-email", json={"token": token})
        ).status_code == 400
    verified = await committed.fetchval(
        "SELECT email_verified_at FROM users WHERE email = $1", address
    )
    assert verified is None


async def test_an_imported_account_without_a_password_is_claimed_by_reset(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "imported@example.com"
    user = await make_user(committed, email=address)
    await committed.execute("UPDATE users SET password_hash = NULL WHERE id = $1", user)
    async with running(mail_settings(database_url, tmp_path, smtp_port)) as (_, client):
        await client.post("/v1/auth/password-reset", json={"email": address})
        token = link_token((await inbox.wait_for(address))[0], "/reset-password")
        confirm = {"token": token, "new_password": NEW_PASSWORD}
        assert (
            await client.post("/v1/auth/password-reset/confirm", json=confirm)
        ).status_code == 204
        login = await client.post(
            "/v1/auth/login", json={"email": address, "password": NEW_PASSWORD}
        )
        assert login.status_code == 200


async def test_verification_link_verifies_once_and_gates_checkout_when_on(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "new@example.com"
    product = await make_product(committed, stock=5)
    settings = mail_settings(database_url, tmp_path, smtp_port, email_verification="on")
    async with running(settings) as (_, client):
        registered = await client.post(
            "/v1/auth/register", json={"email": address, "password": NEW_PASSWORD}
        )
        assert registered.status_code == 202
        login = await client.post(
            "/v1/auth/login", json={"email": address, "password": NEW_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await client.get("/v1/me", headers=headers)).json()["email_verified"] is False
        await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=headers)
        refused = await client.post("/v1/checkout", headers=headers | {"Idempotency-Key": "k1"})
        assert refused.status_code == 403
        assert "Confirm your email" in refused.json()["detail"]

        (mail,) = await inbox.wait_for(address)
        assert mail["Subject"] == "La Boutique: confirm your email address"
        token = link_token(mail, "/verify-email")
        assert (
            await client.post("/v1/auth/verify-email", json={"token": token})
        ).status_code == 204
        again = await client.post("/v1/auth/verify-email", json={"token": token})
        assert again.status_code == 400
        assert (await client.get("/v1/me", headers=headers)).json()["email_verified"] is True
        placed = await client.post("/v1/checkout", headers=headers | {"Idempotency-Key": "k2"})
        assert placed.status_code == 201, placed.text
        # The order's notice follows.
        notices = await inbox.wait_for(address, 2)
        assert notices[1]["Subject"] == "La Boutique: your order is placed"
        assert placed.json()["id"] in text_of(notices[1])


async def test_registering_a_taken_address_tells_nothing_and_notifies_its_owner(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    owner = "owner@example.com"
    await make_user(committed, email=owner)
    settings = mail_settings(database_url, tmp_path, smtp_port, email_verification="on")
    async with running(settings) as (_, client):
        taken = await client.post(
            "/v1/auth/register", json={"email": "Owner@example.com", "password": NEW_PASSWORD}
        )
        fresh = await client.post(
            "/v1/auth/register", json={"email": "fresh@example.com", "password": NEW_PASSWORD}
        )
        assert (
            (taken.status_code, taken.json())
            == (fresh.status_code, fresh.json())
            == (
                202,
                fresh.json(),
            )
        )
        (notice,) = await inbox.wait_for("Owner@example.com")
        assert notice["Subject"] == "La Boutique: someone tried to register with your address"
    # The squatter's password was not set on the owner's account.
    stored = await committed.fetchval("SELECT count(*) FROM users WHERE email = $1", owner)
    assert stored == 1


async def test_an_email_change_is_confirmed_at_the_new_address_once(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    await make_user(committed, email="before@example.com")
    async with running(mail_settings(database_url, tmp_path, smtp_port)) as (_, client):
        login = await client.post(
            "/v1/auth/login", json={"email": "before@example.com", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        wrong = await client.post(
            "/v1/me/email",
            json={"new_email": "after@example.com", "current_password": "not it at all"},
            headers=headers,
        )
        assert wrong.status_code == 403
        asked = await client.post(
            "/v1/me/email",
            json={"new_email": "after@example.com", "current_password": PASSWORD},
            headers=headers,
        )
        assert asked.status_code == 202
        # Nothing changes until the new address confirms.
        assert (await client.get("/v1/me", headers=headers)).json()["email"] == "before@example.com"
        (mail,) = await inbox.wait_for("after@example.com")
        token = link_token(mail, "/verify-email")
        assert (
            await client.post("/v1/auth/verify-email", json={"token": token})
        ).status_code == 204
        assert (
            await client.post("/v1/auth/verify-email", json={"token": token})
        ).status_code == 400
        me = (await client.get("/v1/me", headers=headers)).json()
        assert (me["email"], me["email_verified"]) == ("after@example.com", True)


async def test_a_rolled_back_transaction_sends_nothing(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError):
        async with committed.transaction():
            await mail_queries.insert_email(
                committed, kind="password_changed", recipient="ghost@example.com", payload={}
            )
            raise RuntimeError("the cause failed after writing its mail")
    await mail_queries.insert_email(
        committed, kind="password_changed", recipient="real@example.com", payload={}
    )
    async with running(mail_settings(database_url, tmp_path, smtp_port)):
        await inbox.wait_for("real@example.com")
    assert [m["To"] for m in inbox.messages] == ["real@example.com"]


async def test_a_mail_committed_while_the_smtp_server_is_down_arrives_after_its_restart(
    committed: asyncpg.Connection, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "patient@example.com"
    await make_user(committed, email=address)
    settings = mail_settings(database_url, tmp_path, smtp_port)
    async with running(settings) as (_, client):
        # No server on the port: the request commits, the sending fails and is retried.
        assert (
            await client.post("/v1/auth/password-reset", json={"email": address})
        ).status_code == 202
        for _ in range(2000):
            failed = await committed.fetchval("SELECT attempts FROM outbox_emails")
            if failed:
                break
            await asyncio.sleep(0.01)
        assert failed and failed >= 1
        restarted = Inbox()
        with smtp_server(restarted, smtp_port):
            # The retry is scheduled later; bring it forward rather than wait for it, once
            # the server listens (a round before that would push it back again).
            await committed.execute("UPDATE outbox_emails SET next_attempt_at = now()")
            (mail,) = await restarted.wait_for(address)
    assert link_token(mail, "/reset-password")
    assert await committed.fetchval("SELECT count(*) FROM outbox_emails") == 0


async def test_a_mail_committed_before_the_sender_died_is_sent_by_the_next_one(
    committed: asyncpg.Connection, inbox: Inbox, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    address = "survivor@example.com"
    await make_user(committed, email=address)
    # The first process commits the mail but cannot send it (its SMTP port is dead), and
    # stops: its sender dies with the mail still in the outbox.
    dead = mail_settings(database_url, tmp_path, free_port())
    async with running(dead) as (_, client):
        assert (
            await client.post("/v1/auth/password-reset", json={"email": address})
        ).status_code == 202
    assert await committed.fetchval("SELECT count(*) FROM outbox_emails") == 1
    await committed.execute("UPDATE outbox_emails SET next_attempt_at = now()")
    # The next process, with a working server, sends it.
    async with running(mail_settings(database_url, tmp_path, smtp_port)):
        (mail,) = await inbox.wait_for(address)
    assert mail["Subject"] == "La Boutique: reset your password"


async def test_waiting_mails_go_out_together_once_each_after_the_server_comes_back(
    committed: asyncpg.Connection, smtp_port: int, database_url: str, tmp_path: Path
) -> None:
    """Mails due together leave in one batch over one SMTP connection; with the server
    down, every mail of the batch waits for its retry, and each arrives once."""
    addresses = [f"buyer{n}@example.com" for n in range(5)]
    for n, address in enumerate(addresses):
        await mail_queries.insert_email(
            committed,
            kind="order_placed",
            recipient=address,
            payload={"order_id": f"order-{n}", "total": "10.00", "currency": "EUR"},
        )
    async with running(mail_settings(database_url, tmp_path, smtp_port)):
        for _ in range(2000):
            tried = await committed.fetchval(
                "SELECT count(*) FROM outbox_emails WHERE attempts >= 1"
            )
            if tried == len(addresses):
                break
            await asyncio.sleep(0.01)
        assert tried == len(addresses)
        errors = await committed.fetch("SELECT DISTINCT last_error FROM outbox_emails")
        assert len(errors) == 1 and "Unreachable" in errors[0]["last_error"]
        restarted = Inbox()
        with smtp_server(restarted, smtp_port):
            # Brought forward once the server listens, so that no round can find it down.
            await committed.execute("UPDATE outbox_emails SET next_attempt_at = now()")
            for address in addresses:
                await restarted.wait_for(address)
    assert sorted(str(m["To"]) for m in restarted.messages) == addresses
    assert len(set(restarted.peers)) == 1
    assert await committed.fetchval("SELECT count(*) FROM outbox_emails") == 0
