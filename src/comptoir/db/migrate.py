"""Alembic, driven from code: the revisions ship inside the package.

Alembic is imported only when there is something to migrate: importing it costs every
command half a second or more (a third of a 100k-record `import-json`), while a database
already at the head, its function files applied, is told by two queries
(`at_head`).
"""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from comptoir.db import direct, repeatable
from comptoir.db.server import sqlalchemy_url

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
# "migrate!" in ASCII: the lock that queues instances starting on a database to migrate.
ADVISORY_LOCK = 0x6D69677261746521
# How every revision file names itself and its parent (script.py.mako writes them so).
REVISION_LINE = re.compile(r'^(revision|down_revision) = (None|"([^"]+)")$', re.MULTILINE)


def alembic_config(url: str) -> "Config":
    from alembic.config import Config  # see the module docstring

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a % in a password.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The latest revision, read from the revision files (Alembic's answer when they are
    not one plain chain)."""
    if head := _single_head():
        return head
    from alembic.script import ScriptDirectory  # see the module docstring

    head = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
    assert head is not None
    return head


def _single_head() -> str | None:
    """The one revision no other revises, when each file names one revision and at most one
    parent (no merges, no branches); None otherwise, and Alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        names = {match[1]: match[3] for match in REVISION_LINE.finditer(text)}
        if set(names) != {"revision", "down_revision"} or names["revision"] is None:
            return None
        revisions.add(names["revision"])
        if names["down_revision"] is not None:
            parents.add(names["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def upgrade(url: str, revision: str = "head") -> None:
    if revision == "head" and asyncio.run(at_head(url)):
        return
    from alembic import command  # see the module docstring

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command  # see the module docstring

    command.downgrade(alembic_config(url), revision)


async def at_head(url: str) -> bool:
    """Whether an upgrade to the head would change nothing: the database is at the head
    revision, every function file is applied as it is now, and the head's served
    revisions are recorded. Refused, as a migration is, behind a pooler or on a standby.
    False whenever in doubt: Alembic then decides, under its lock."""
    head = _single_head()
    if head is None:
        return False
    conn = await asyncpg.connect(url)
    try:
        await direct.ensure_direct_primary(conn, "Migrating")
        schema = await fetch_schema(conn)
        if schema.revision != head or head not in schema.serves:
            return False
        applied = await repeatable.applied_checksums(conn)
    finally:
        await conn.close()
    return all(applied.get(s.name) == s.checksum for s in repeatable.sources())


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


def served_by(script: "ScriptDirectory", revision: str) -> list[str]:
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
