"""Use cases that send mail: each writes its mail to the outbox in the transaction of what
causes it (comptoir/mail/sender.py sends it), so a rolled-back change sends nothing and a
committed one is never lost.

One-time links: a random token goes in the mail, its SHA-256 in `account_links`; a link
works once, until it expires, and using one spends every other open link of the same kind
for that account.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from uuid import UUID

import asyncpg

from comptoir.accounts import queries
from comptoir.accounts.queries import Purpose
from comptoir.auth import queries as auth_queries
from comptoir.auth.queries import EmailTaken
from comptoir.auth.schemas import User
from comptoir.auth.security import new_refresh_token, refresh_token_digest
from comptoir.db.door import Door
from comptoir.mail import queries as mail
from comptoir.settings import Settings


class Registered(Enum):
    CREATED = "created"
    TAKEN = "taken"  # the owner was sent a notice


@dataclass(frozen=True)
class NewAccount:
    outcome: Registered
    user: User | None  # the account created


async def _send_link(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    purpose: Purpose,
    recipient: str,
    ttl: timedelta,
    new_email: str | None = None,
) -> None:
    token, digest = new_refresh_token()
    await queries.insert_link(
        conn,
        token_hash=digest,
        user_id=user_id,
        purpose=purpose,
        new_email=new_email,
        expires_at=datetime.now(UTC) + ttl,
    )
    await mail.insert_email(conn, kind=purpose, recipient=recipient, payload={"token": token})


def _verify_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.verify_link_ttl_hours)


async def register(
    db: Door,
    *,
    email: str,
    password_hash: str,
    name: str | None,
    settings: Settings,
    hide_taken: bool,
) -> NewAccount:
    """Create the account and mail it a verification link. A taken address raises
    EmailTaken, or with `hide_taken` mails its owner a notice instead."""
    async with db.transaction() as conn:
        try:
            # A savepoint: the transaction goes on after a taken address.
            async with conn.transaction():
                user = await auth_queries.insert_user(
                    conn, email=email, password_hash=password_hash, name=name
                )
        except EmailTaken:
            if not hide_taken:
                raise
            await mail.insert_email(conn, kind="register_attempt", recipient=email, payload={})
            return NewAccount(Registered.TAKEN, None)
        await _send_link(
            conn,
            user_id=user.id,
            purpose="verify",
            recipient=user.email,
            ttl=_verify_ttl(settings),
        )
    return NewAccount(Registered.CREATED, user)


async def request_reset(db: Door, *, email: str, settings: Settings) -> None:
    """Mail a reset link if the address has an account; nothing otherwise (the caller answers
    the same either way)."""
    async with db.transaction() as conn:
        account = await queries.fetch_account(conn, email=email)
        if account is None:
            return
        await _send_link(
            conn,
            user_id=account.id,
            purpose="reset",
            recipient=account.email,
            ttl=timedelta(minutes=settings.reset_link_ttl_minutes),
        )


async def link_account(db: Door, *, token: str, purpose: Purpose) -> queries.Link | None:
    """The usable link's account (to check a new password against its address)."""
    link = await db.one(queries.fetch_link, token_hash=refresh_token_digest(token))
    return link if link and link.usable and link.purpose == purpose else None


async def reset_password(db: Door, *, token: str, password_hash: str) -> bool:
    """Set the password the link's owner chose; every session of the account ends (whoever
    knew the old password is out), and a notice goes to the address. False: the link is
    unknown, used or expired."""
    async with db.transaction() as conn:
        link = await queries.lock_link(conn, token_hash=refresh_token_digest(token))
        if link is None or not link.usable or link.purpose != "reset":
            return False
        await queries.update_links_used(conn, user_id=link.user_id, purpose="reset")
        await queries.update_password_after_reset(
            conn, user_id=link.user_id, password_hash=password_hash
        )
        await auth_queries.update_other_sessions_revoked(conn, user_id=link.user_id, keep=None)
        await mail.insert_email(conn, kind="password_changed", recipient=link.email, payload={})
    return True


async def verify_email(db: Door, *, token: str) -> bool:
    """Confirm an address: the account's (a verification link) or the new one an email change
    moves to. False: the link is unknown, used or expired. EmailTaken: the new address got
    an account meanwhile."""
    async with db.transaction() as conn:
        link = await queries.lock_link(conn, token_hash=refresh_token_digest(token))
        if link is None or not link.usable or link.purpose == "reset":
            return False
        await queries.update_links_used(conn, user_id=link.user_id, purpose=link.purpose)
        if link.purpose == "verify":
            await queries.update_email_verified(conn, user_id=link.user_id)
        else:
            assert link.new_email is not None
            await queries.update_email(conn, user_id=link.user_id, email=link.new_email)
    return True


async def request_email_change(
    db: Door, *, user_id: UUID, new_email: str, settings: Settings
) -> None:
    """Mail a confirmation link to the new address; the account's address changes only when
    it is used."""
    async with db.transaction() as conn:
        await _send_link(
            conn,
            user_id=user_id,
            purpose="email_change",
            recipient=new_email,
            new_email=new_email,
            ttl=_verify_ttl(settings),
        )


async def change_password(
    db: Door, *, user_id: UUID, email: str, password_hash: str, keep: UUID | None
) -> None:
    """The new password; every session but `keep` ends (the generation ends the tokens
    minted without a session), and a notice goes to the address."""
    async with db.transaction() as conn:
        await auth_queries.update_password_hash(
            conn, user_id=user_id, password_hash=password_hash, revoke_tokens=True
        )
        await auth_queries.update_other_sessions_revoked(conn, user_id=user_id, keep=keep)
        await mail.insert_email(conn, kind="password_changed", recipient=email, payload={})


async def resend_verification(db: Door, *, user_id: UUID, email: str, settings: Settings) -> None:
    async with db.transaction() as conn:
        await _send_link(
            conn, user_id=user_id, purpose="verify", recipient=email, ttl=_verify_ttl(settings)
        )


async def erase(db: Door, *, user_id: UUID) -> None:
    """GDPR erasure: personal data anonymised, orders kept for the shop's books without the
    customer's details, everything else of theirs deleted, every token dead."""
    async with db.transaction() as conn:
        await queries.update_user_erased(conn, user_id=user_id)
        await queries.update_orders_anonymised(conn, user_id=user_id)
        for table in queries.OWNED:
            await queries.delete_owned_rows(conn, user_id=user_id, table=table)
