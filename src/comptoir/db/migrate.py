"""Alembic, driven from code: the revisions ship inside the package."""

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from asyncpg.pool import PoolConnectionProxy

from comptoir.db.server import sqlalchemy_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a % in a password.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def fetch_revision(
    conn: asyncpg.Connection | PoolConnectionProxy,
) -> str | None:
    """The revision the database is at; None for a database Comptoir never migrated.
    /readyz asks on a connection of the app's pool, the CLI on one of its own."""
    if await conn.fetchval("SELECT to_regclass('alembic_version')") is None:
        return None
    revision: str | None = await conn.fetchval("SELECT version_num FROM alembic_version")
    return revision


async def current_revision(url: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await fetch_revision(conn)
    finally:
        await conn.close()


async def run_in_thread(step: Callable[[str], None], url: str) -> None:
    """Alembic's env runs its own event loop; from async code, give it a thread."""
    await asyncio.to_thread(step, url)
