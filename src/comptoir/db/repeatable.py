"""SQL functions as source files, re-applied when they change: Flyway's "repeatable
migrations".

Each file of `db/functions/` holds one function or trigger function as `CREATE OR REPLACE`.
After the versioned revisions bring a database to the head, the files whose checksum differs
from the one recorded in `schema_functions` are applied, in the same transaction, and their
checksums recorded. So a function's history is `git log -p` on its file, and changing one
is editing it: no revision to write, no 80 lines to copy.

What stays in versioned revisions: tables, indexes, policies, data changes, a change of a
function's signature (DROP FUNCTION there, the new definition in its file), and the
functions whose results are stored (`fold()` and `name_spellings()` make the search's
vocabulary, `product_tags()` the products' search documents: changing them must rebuild
what they made, which only a revision can do).

A database below the head (a downgrade, or `db upgrade REV`) has the functions its
revisions made, and forgets the recorded checksums, so that the next upgrade to the head
applies every file again.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

FUNCTIONS = Path(__file__).parent / "functions"
# Functions that versioned revisions keep, for the reason above.
VERSIONED = frozenset({"fold", "name_spellings", "product_tags"})


@dataclass(frozen=True)
class Source:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def sources(directory: Path | None = None) -> list[Source]:
    """The function files, in name order."""
    folder = directory or FUNCTIONS
    return [Source(path.stem, path.read_text()) for path in sorted(folder.glob("*.sql"))]


async def _tracked(conn: asyncpg.Connection) -> bool:
    return await conn.fetchval("SELECT to_regclass('schema_functions') IS NOT NULL") is True


async def apply_changed(conn: asyncpg.Connection, directory: Path | None = None) -> list[str]:
    """Apply the files that changed since they were last applied, in the caller's
    transaction; their names."""
    if not await _tracked(conn):
        return []
    applied = await applied_checksums(conn)
    changed = [s for s in sources(directory) if applied.get(s.name) != s.checksum]
    for source in changed:
        await conn.execute(source.sql)
        await conn.execute(
            "INSERT INTO schema_functions (name, checksum) VALUES ($1, $2)"
            " ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()",
            source.name,
            source.checksum,
        )
    return [source.name for source in changed]


async def applied_checksums(conn: asyncpg.Connection) -> dict[str, str]:
    """The checksum of each function file as last applied (none when not tracked)."""
    if not await _tracked(conn):
        return {}
    rows = await conn.fetch("SELECT name, checksum FROM schema_functions")
    return {row["name"]: row["checksum"] for row in rows}


async def forget(conn: asyncpg.Connection) -> None:
    """Below the head: the functions are the revisions', not the files'."""
    if await _tracked(conn):
        await conn.execute("DELETE FROM schema_functions")
