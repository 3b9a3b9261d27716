"""SQL of one-time links and of the account's own changes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from comptoir.auth.queries import EmailTaken

Purpose = Literal["reset", "verify", "email_change"]


@dataclass(frozen=True)
class Account:
    id: UUID
    email: str


@dataclass(frozen=True)
class Link:
    user_id: UUID
    email: str  # the account's address now
    purpose: Purpose
    new_email: str | None
    usable: bool  # neither used nor expired


async def fetch_account(conn: asyncpg.Connection, *, email: str) -> Account | None:
    """The account of `email`, unless erased (its address is a placeholder, not a mailbox)."""
    row = await conn.fetchrow(
        "SELECT id, email::text AS email FROM users WHERE email = $1 AND erased_at IS NULL",
        email,
    )
    return Account(row["id"], row["email"]) if row else None


async def insert_link(
    conn: asyncpg.Connection,
    *,
    token_hash: bytes,
    user_id: UUID,
    purpose: Purpose,
    expires_at: datetime,
    new_email: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO account_links (token_hash, user_id, purpose, new_email, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        token_hash,
        user_id,
        purpose,
        new_email,
        expires_at,
    )


_LINK = (
    "SELECT l.user_id, u.email::text AS email, l.purpose, l.new_email::text AS new_email,"
    " l.used_at IS NULL AND l.expires_at > now() AS usable"
    " FROM account_links AS l JOIN users AS u ON u.id = l.user_id WHERE l.token_hash = $1"
)


def _link(row: asyncpg.Record | None) -> Link | None:
    if row is None:
        return None
    return Link(row["user_id"], row["email"], row["purpose"], row["new_email"], row["usable"])


async def fetch_link(conn: asyncpg.Connection, *, token_hash: bytes) -> Link | None:
    return _link(await conn.fetchrow(_LINK, token_hash))


async def lock_link(conn: asyncpg.Connection, *, token_hash: bytes) -> Link | None:
    """The link, locked: two clicks take turns, and the second finds it used."""
    return _link(await conn.fetchrow(_LINK + " FOR UPDATE OF l", token_hash))


async def update_links_used(conn: asyncpg.Connection, *, user_id: UUID, purpose: Purpose) -> None:
    """Spend every open link of the account for `purpose`: the one used, and any older one
    still lying in a mailbox."""
    await conn.execute(
        "UPDATE account_links SET used_at = now()"
        " WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        user_id,
        purpose,
    )


async def update_password_after_reset(
    conn: asyncpg.Connection, *, user_id: UUID, password_hash: str
) -> None:
    """The new password; the address is verified too (the link reached its mailbox), and the
    tokens minted without a session end."""
    await conn.execute(
        "UPDATE users SET password_hash = $2, token_generation = token_generation + 1,"
        " email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        user_id,
        password_hash,
    )


async def update_email_verified(conn: asyncpg.Connection, *, user_id: UUID) -> None:
    await conn.execute(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        user_id,
    )


async def update_email(conn: asyncpg.Connection, *, user_id: UUID, email: str) -> None:
    try:
        await conn.execute(
            "UPDATE users SET email = $2, email_verified_at = now() WHERE id = $1",
            user_id,
            email,
        )
    except asyncpg.UniqueViolationError:
        raise EmailTaken() from None


# Erasure (POST /v1/me/erasure): one statement each, in the service's transaction.


async def update_user_erased(conn: asyncpg.Connection, *, user_id: UUID) -> None:
    """Personal data out of the account row; the row stays, for the orders that point at it.
    The address is made unique and unusable (.invalid is reserved, RFC 2606)."""
    await conn.execute(
        "UPDATE users SET email = 'erased-' || id || '@erased.invalid', name = NULL,"
        " password_hash = NULL, email_verified_at = NULL, erased_at = now(),"
        " token_generation = token_generation + 1 WHERE id = $1",
        user_id,
    )


async def update_orders_anonymised(conn: asyncpg.Connection, *, user_id: UUID) -> None:
    await conn.execute(
        "UPDATE orders SET shipping_address = NULL, billing_address = NULL WHERE user_id = $1",
        user_id,
    )


async def delete_owned_rows(conn: asyncpg.Connection, *, user_id: UUID, table: str) -> None:
    """The user's rows of `table`, one of OWNED (never a client's word)."""
    assert table in OWNED
    await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)


# Everything else of theirs: sessions (refresh tokens go with them), links, revoked tokens,
# the cart (its lines go with it), checkout keys (their stored responses are order documents),
# saved addresses, analytics events.
OWNED = (
    "sessions",
    "account_links",
    "revoked_tokens",
    "carts",
    "idempotency_keys",
    "addresses",
    "analytics_events",
)


async def update_profile(conn: asyncpg.Connection, *, user_id: UUID, name: str | None) -> None:
    await conn.execute("UPDATE users SET name = $2 WHERE id = $1", user_id, name)
