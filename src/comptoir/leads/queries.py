"""SQL of leads."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from comptoir.db.cursor import fetch_in_batches
from comptoir.leads.schemas import Lead
from comptoir.pagination import Arguments, newest_first

LEAD_COLUMNS = "id, name, email::text AS email, message, created_at"


async def insert_lead(conn: asyncpg.Connection, *, name: str, email: str, message: str) -> Lead:
    row = await conn.fetchrow(
        f"INSERT INTO leads (name, email, message) VALUES ($1, $2, $3) RETURNING {LEAD_COLUMNS}",
        name,
        email,
        message,
    )
    assert row is not None  # INSERT ... RETURNING of one row
    return Lead.model_validate(dict(row))


@dataclass(frozen=True)
class LeadFilter:
    email: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    after: tuple[datetime, UUID] | None = None  # the cursor: last row of the last page

    def where(self, args: Arguments) -> list[str]:
        """Only the filters asked for, so that each gets its plan: leads(email) for an
        email, leads(created_at DESC) otherwise."""
        clauses = []
        if self.email is not None:
            clauses.append(f"l.email = {args.add(self.email, 'citext')}")
        if self.since is not None:
            clauses.append(f"l.created_at >= {args.add(self.since, 'timestamptz')}")
        if self.until is not None:
            clauses.append(f"l.created_at < {args.add(self.until, 'timestamptz')}")
        return clauses


LEAD_JSON = """json_build_object(
    'id', l.id, 'name', l.name, 'email', l.email::text, 'message', l.message,
    'created_at', l.created_at)"""


async def list_leads_json(conn: asyncpg.Connection, *, filters: LeadFilter, limit: int) -> str:
    args = Arguments()
    sql = newest_first(
        args, source="leads AS l", alias="l", where=filters.where(args), item=LEAD_JSON,
        after=filters.after, limit=limit,
    )  # fmt: skip
    page: str = await conn.fetchval(sql, *args.values)
    return page


EXPORT = """
SELECT l.id, l.created_at, l.name, l.email::text AS email, l.message FROM leads AS l
WHERE {where}
ORDER BY l.created_at DESC, l.id DESC
"""


async def iter_leads(
    conn: asyncpg.Connection, *, filters: LeadFilter, prefetch: int
) -> AsyncIterator[Lead]:
    """Every matching lead, newest first, through a server-side cursor: `prefetch` rows in
    memory at a time. Call inside a transaction (cursors live in one)."""
    args = Arguments()
    where = " AND ".join(filters.where(args)) or "true"
    async for row in fetch_in_batches(
        conn, EXPORT.format(where=where), *args.values, batch=prefetch
    ):
        yield Lead.model_construct(**row)  # the columns are the model's, already typed
