"""SQL of user administration."""

from uuid import UUID

import asyncpg

from comptoir.auth.queries import USER_COLUMNS
from comptoir.auth.schemas import User
from comptoir.errors import Conflict


class HasOrders(Conflict):
    def __init__(self) -> None:
        super().__init__("This user has orders; order history is kept, so the user stays.")


async def list_users(
    conn: asyncpg.Connection, *, after_email: str | None, limit: int, email_part: str | None = None
) -> list[User]:
    """Users by email (the unique index keeps this a short index scan), one extra row to
    tell whether another page follows; `email_part` keeps the emails that contain it, any
    case (the back office's search box: a walk of the index, filtered)."""
    rows = await conn.fetch(
        f"SELECT {USER_COLUMNS} FROM users"
        " WHERE ($1::citext IS NULL OR email > $1::citext)"
        "   AND ($3::text IS NULL OR strpos(lower(email::text), lower($3)) > 0)"
        " ORDER BY email LIMIT $2 + 1",
        after_email,
        limit,
        email_part,
    )
    return [User.model_validate(dict(row)) for row in rows]


async def update_role(conn: asyncpg.Connection, *, user_id: UUID, role: str) -> User | None:
    row = await conn.fetchrow(
        f"UPDATE users SET role = $2 WHERE id = $1 RETURNING {USER_COLUMNS}", user_id, role
    )
    return User.model_validate(dict(row)) if row else None


async def delete_user(conn: asyncpg.Connection, *, user_id: UUID) -> bool:
    """Delete a user: the cart goes with them, their events lose their user (ON DELETE rules);
    a user with orders is refused by orders' ON DELETE RESTRICT."""
    try:
        deleted: UUID | None = await conn.fetchval(
            "DELETE FROM users WHERE id = $1 RETURNING id", user_id
        )
    # PostgreSQL 18 reports RESTRICT as restrict_violation, older servers as
    # foreign_key_violation.
    except (asyncpg.RestrictViolationError, asyncpg.ForeignKeyViolationError):
        raise HasOrders() from None
    return deleted is not None


async def update_role_to_admin(conn: asyncpg.Connection, *, email: str) -> bool | None:
    """Promote the account; whether it has a password, or None when there is no account."""
    has_password: bool | None = await conn.fetchval(
        "UPDATE users SET role = 'admin' WHERE email = $1 RETURNING password_hash IS NOT NULL",
        email,
    )
    return has_password


async def fetch_user_id(conn: asyncpg.Connection, *, email: str) -> UUID | None:
    user_id: UUID | None = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    return user_id


async def fetch_has_password(conn: asyncpg.Connection, *, email: str) -> bool | None:
    """Whether the account has a password; None when there is no account."""
    has_password: bool | None = await conn.fetchval(
        "SELECT password_hash IS NOT NULL FROM users WHERE email = $1", email
    )
    return has_password
