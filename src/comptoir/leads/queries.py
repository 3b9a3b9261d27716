"""SQL of leads."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from comptoir.leads.schemas import Lead

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

    def where(self, first: int) -> tuple[str, list[object]]:
        """Only the filters asked for, so that each gets its plan: leads(email) for an
        email, leads(created_at DESC) otherwise. Arguments are numbered from `first`."""
        clauses: list[str] = []
        args: list[object] = []

        def arg(value: object, cast: str) -> str:
            args.append(value)
            return f"${first + len(args) - 1}::{cast}"

        if self.email is not None:
            clauses.append(f"email = {arg(self.email, 'citext')}")
        if self.since is not None:
            clauses.append(f"created_at >= {arg(self.since, 'timestamptz')}")
        if self.until is not None:
            clauses.append(f"created_at < {arg(self.until, 'timestamptz')}")
        if self.after is not None:
            at, ident = arg(self.after[0], "timestamptz"), arg(self.after[1], "uuid")
            clauses.append(f"created_at <= {at} AND (created_at, id) < ({at}, {ident})")
        return " AND ".join(clauses) or "true", args


PAGE = """
WITH page AS MATERIALIZED (
    SELECT l.*, row_number() OVER (ORDER BY l.created_at DESC, l.id DESC) AS n
    FROM (
        SELECT id, name, email, message, created_at FROM leads
        WHERE {where}
        ORDER BY created_at DESC, id DESC
        LIMIT $1 + 1
    ) AS l
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg(json_build_object(
                    'id', p.id, 'name', p.name, 'email', p.email, 'message', p.message,
                    'created_at', p.created_at) ORDER BY p.n)
         FROM page AS p WHERE p.n <= $1),
        '[]'::json),
    'next_cursor',
        (SELECT (extract(epoch FROM p.created_at) * 1000000)::bigint || '.' || p.id
         FROM page AS p
         WHERE p.n = $1 AND EXISTS (SELECT FROM page WHERE n = $1 + 1)))::text
"""


async def list_leads_json(conn: asyncpg.Connection, *, filters: LeadFilter, limit: int) -> str:
    where, args = filters.where(first=2)
    page: str = await conn.fetchval(PAGE.format(where=where), limit, *args)
    return page


EXPORT = """
SELECT id, created_at, name, email::text AS email, message FROM leads
WHERE {where}
ORDER BY created_at DESC, id DESC
"""


async def iter_leads(
    conn: asyncpg.Connection, *, filters: LeadFilter, prefetch: int
) -> AsyncIterator[Lead]:
    """Every matching lead, newest first, through a server-side cursor: `prefetch` rows in
    memory at a time. Call inside a transaction (cursors live in one)."""
    where, args = filters.where(first=1)
    async for row in conn.cursor(EXPORT.format(where=where), *args, prefetch=prefetch):
        yield Lead.model_construct(**row)  # the columns are the model's, already typed
