"""`comptoir users create-admin`: the first admin of a shop, or a promotion."""

import asyncpg

from comptoir.auth import queries as auth_queries
from comptoir.auth.security import hash_password


async def create_or_promote_admin(url: str, *, email: str, password: str | None) -> str:
    """Promote the account with this email, or create it as an admin; say which."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            promoted = await conn.fetchval(
                "UPDATE users SET role = 'admin' WHERE email = $1 RETURNING id", email
            )
            if promoted is not None:
                return f"{email} is now an admin (password unchanged)"
            if not password:
                raise ValueError("a new account needs a password")
            await auth_queries.insert_user(
                conn,
                email=email,
                password_hash=await hash_password(password),
                name=None,
                role="admin",
            )
            return f"admin {email} created"
    finally:
        await conn.close()


async def account_exists(url: str, *, email: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM users WHERE email = $1", email))
    finally:
        await conn.close()
