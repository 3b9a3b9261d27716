"""Leads as CSV, streamed (comptoir/csv_export.py)."""

from collections.abc import AsyncIterator

from comptoir.csv_export import CHUNK_ROWS, chunked, neutralised
from comptoir.db.door import Door
from comptoir.leads import queries

HEADER = ("id", "created_at", "name", "email", "message")


async def leads_csv(
    db: Door, *, filters: queries.LeadFilter, chunk_rows: int = CHUNK_ROWS
) -> AsyncIterator[str]:
    # The connection is taken here, when the response starts, and held until the last row.
    async with db.transaction() as conn:
        leads = queries.iter_leads(conn, filters=filters, prefetch=chunk_rows)
        rows = (
            (
                lead.id,
                lead.created_at.isoformat(),
                neutralised(lead.name),
                neutralised(lead.email),
                neutralised(lead.message),
            )
            async for lead in leads
        )
        async for chunk in chunked(HEADER, rows, chunk_rows=chunk_rows):
            yield chunk
