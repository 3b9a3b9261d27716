"""Leads as CSV, streamed: rows come through a server-side cursor and leave in chunks, so an
export of any size holds one chunk in memory."""

import csv
import io
from collections.abc import AsyncIterator

from comptoir.db.context import Context, Database
from comptoir.leads import queries

HEADER = ("id", "created_at", "name", "email", "message")
CHUNK_ROWS = 500
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): such cells get a leading apostrophe, which shows as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


async def leads_csv(
    db: Database,
    context: Context,
    *,
    filters: queries.LeadFilter,
    chunk_rows: int = CHUNK_ROWS,
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    # The connection is taken here, when the response starts, and held until the last row.
    async with db.transaction(context) as conn:
        rows = 0
        async for row in queries.iter_leads(conn, filters=filters, prefetch=chunk_rows):
            writer.writerow(
                (
                    row["id"],
                    row["created_at"].isoformat(),
                    neutralised(row["name"]),
                    neutralised(row["email"]),
                    neutralised(row["message"]),
                )
            )
            rows += 1
            if rows % chunk_rows == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
