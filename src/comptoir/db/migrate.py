"""Alembic, driven from code: the revisions ship inside the package."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from asyncpg.pool import PoolConnectionProxy

from comptoir.db.server import sqlalchemy_url

MIGRATIONS = Path(__file__).parent / "migrations"
# "migrate!" in ASCII: the lock that queues instances starting on a database to migrate.
ADVISORY_LOCK = 0x6D69677261746521


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


@dataclass(frozen=True)
class Schema:
    """The database's revision, and the code revisions its schema still serves."""

    revision: str | None
    serves: frozenset[str]

    def serves_code_at(self, head: str) -> bool:
        return head == self.revision or head in self.serves


def served_by(script: ScriptDirectory, revision: str) -> list[str]:
    """`revision` and the ones before it whose code still works on its schema: a revision
    that only adds (expand, of expand/contract) says `serves_previous = True`, so that
    instances still on the previous code stay ready during a rolling deploy."""
    served = [revision]
    step = script.get_revision(revision)
    while step is not None and getattr(step.module, "serves_previous", False):
        below = step.down_revision
        if not isinstance(below, str):
            break
        served.append(below)
        step = script.get_revision(below)
    return served


async def record_served(conn: asyncpg.Connection, revisions: list[str]) -> None:
    if await conn.fetchval("SELECT to_regclass('schema_serves')") is None:
        return
    await conn.execute("DELETE FROM schema_serves")
    await conn.execute("INSERT INTO schema_serves (revision) SELECT unnest($1::text[])", revisions)


async def fetch_schema(conn: asyncpg.Connection | PoolConnectionProxy) -> Schema:
    """/readyz's question: where the schema is, and which code it serves."""
    revision = await fetch_revision(conn)
    serves: list[str] = []
    if await conn.fetchval("SELECT to_regclass('schema_serves')") is not None:
        serves = await conn.fetchval("SELECT array_agg(revision) FROM schema_serves") or []
    return Schema(revision, frozenset(serves))


async def current_revision(url: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await fetch_revision(conn)
    finally:
        await conn.close()


async def run_in_thread(step: Callable[[str], None], url: str) -> None:
    """Alembic's env runs its own event loop; from async code, give it a thread."""
    await asyncio.to_thread(step, url)
