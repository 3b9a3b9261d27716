"""Sessions: a login opens one, a refresh rotates its token, a reuse or a logout ends it;
and the current-password check that guards an account's changes.

Each use case is one transaction through the door, so that a refresh token is spent and its
successor written together: a crash between the two cannot leave a customer with a token
that is neither spent nor replaced.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from uuid import UUID

from argon2 import PasswordHasher

from comptoir.auth import queries
from comptoir.auth.security import new_refresh_token, refresh_token_digest, verify_password
from comptoir.db.door import Door
from comptoir.errors import Forbidden


@dataclass(frozen=True)
class Opened:
    user_id: UUID
    session_id: UUID
    refresh_token: str


class Refused(Enum):
    UNKNOWN = "unknown"  # never issued, expired, or its session was ended
    REUSED = "reused"  # spent already: the family is now revoked


async def open_session(db: Door, *, user_id: UUID, ttl: timedelta) -> Opened:
    token, digest = new_refresh_token()
    async with db.transaction() as conn:
        session_id = await queries.insert_session(conn, user_id=user_id)
        await queries.insert_refresh_token(
            conn, token_hash=digest, session_id=session_id, expires_at=datetime.now(UTC) + ttl
        )
    return Opened(user_id, session_id, token)


async def rotate(db: Door, *, refresh_token: str, ttl: timedelta) -> Opened | Refused:
    """Spend `refresh_token` and issue its successor in the same session. A spent token
    presented again revokes the session (RFC 9700, 4.14.2): either the customer or a thief
    holds a copy, and the server cannot tell which, so both must log in again. The
    revocation commits; the caller then answers 401."""
    digest = refresh_token_digest(refresh_token)
    token, new_digest = new_refresh_token()
    async with db.transaction() as conn:
        row = await queries.lock_refresh_token(conn, token_hash=digest)
        if row is None or row.expired or row.revoked:
            return Refused.UNKNOWN
        if row.spent:
            await queries.update_session_revoked(conn, session_id=row.session_id)
            return Refused.REUSED
        await queries.update_refresh_token_spent(conn, token_hash=digest)
        await queries.insert_refresh_token(
            conn,
            token_hash=new_digest,
            session_id=row.session_id,
            expires_at=datetime.now(UTC) + ttl,
        )
    return Opened(row.user_id, row.session_id, token)


async def end_session(db: Door, *, session_id: UUID) -> None:
    await db.one(queries.update_session_revoked, session_id=session_id)


async def end_other_sessions(db: Door, *, user_id: UUID, keep: UUID | None) -> None:
    await db.one(queries.update_other_sessions_revoked, user_id=user_id, keep=keep)


async def check_current_password(
    db: Door, *, user_id: UUID, password: str, hasher: PasswordHasher
) -> None:
    """What a signed-in caller must prove before changing their password or address, or
    erasing their account. A wrong one is 403, not 401: the caller is still logged in, and
    clients read 401 as "logged out"."""
    stored = await db.one(queries.fetch_password_hash, user_id=user_id)
    if not (await verify_password(stored, password, hasher)).valid:
        raise Forbidden("The current password is wrong.", field="current_password")
