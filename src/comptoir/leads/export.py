"""Leads as CSV, streamed: rows come through a server-side cursor and leave in chunks, so an
export of any size holds one chunk in memory."""

import csv
import io
import re
from collections.abc import AsyncIterator

from comptoir.db.door import Door
from comptoir.leads import queries

HEADER = ("id", "created_at", "name", "email", "message")
CHUNK_ROWS = 500
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): such cells get a leading apostrophe, which shows as text. A cell starts not
# only where our `,` CSV says: Excel set to `;` separators (French, German locales) also
# splits on `;` and does not know our quoting, so it may see a line break inside a quoted
# field as the end of a row and a `"` after a `;` as a quote. So the apostrophe goes before
# a formula character at every place a reader with either separator could start a cell:
# the start, after `,` `;` or a line break, past any spaces and quotes.
FORMULA_START = re.compile(r"""(^|[,;\r\n])([ "]*)(?=[=+\-@\t\r])""")


def neutralised(cell: str) -> str:
    return FORMULA_START.sub(r"\1\2'", cell)


async def leads_csv(
    db: Door,
    *,
    filters: queries.LeadFilter,
    chunk_rows: int = CHUNK_ROWS,
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    # The connection is taken here, when the response starts, and held until the last row.
    async with db.transaction() as conn:
        rows = 0
        async for row in queries.iter_leads(conn, filters=filters, prefetch=chunk_rows):
            writer.writerow(
                (
                    row.id,
                    row.created_at.isoformat(),
                    neutralised(row.name),
                    neutralised(row.email),
                    neutralised(row.message),
                )
            )
            rows += 1
            if rows % chunk_rows == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
