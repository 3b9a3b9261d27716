"""`comptoir users create-admin` and `set-password`: an operator's way into accounts."""

from typing import Literal

import asyncpg
from argon2 import PasswordHasher

from comptoir.auth import queries as auth_queries
from comptoir.auth.security import STANDARD, hash_password
from comptoir.users import queries

Presence = Literal["absent", "with password", "without password"]


async def create_or_promote_admin(
    url: str, *, email: str, password: str | None, hasher: PasswordHasher = STANDARD
) -> str:
    """Promote the account with this email (its password untouched), or create it as an
    admin with `password`; say which, and where the password stands."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            has_password = await queries.update_role_to_admin(conn, email=email)
            if has_password is not None:
                # An operator promoting an account must know whether that admin can log in.
                if has_password:
                    return (f"{email} is now an admin; its password is unchanged (change it"
                            f" with `comptoir users set-password {email}`)")  # fmt: skip
                return (f"{email} is now an admin; it has no password, so it cannot log in"
                        f" until one is set: `comptoir users set-password {email}`")  # fmt: skip
            if not password:
                raise ValueError("a new account needs a password")
            await auth_queries.insert_user(
                conn,
                email=email,
                password_hash=await hash_password(password, hasher),
                name=None,
                role="admin",
            )
            return f"admin {email} created with the password given"
    finally:
        await conn.close()


async def set_password(
    url: str, *, email: str, password: str, hasher: PasswordHasher = STANDARD
) -> str:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            user_id = await queries.fetch_user_id(conn, email=email)
            if user_id is None:
                raise LookupError(f"no account with the email {email}")
            await auth_queries.update_password_hash(
                conn, user_id=user_id, password_hash=await hash_password(password, hasher),
                revoke_tokens=True,
            )  # fmt: skip
        return f"password of {email} set; its earlier tokens no longer work"
    finally:
        await conn.close()


async def account_exists(url: str, *, email: str) -> Presence:
    conn = await asyncpg.connect(url)
    try:
        has_password = await queries.fetch_has_password(conn, email=email)
    finally:
        await conn.close()
    if has_password is None:
        return "absent"
    return "with password" if has_password else "without password"
