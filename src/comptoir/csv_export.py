"""CSV exports, streamed: rows come through a server-side cursor and leave in chunks, so an
export of any size holds one chunk in memory; and cells a spreadsheet would run as
formulas are neutralised. The leads' and the orders' exports are written with it."""

import csv
import io
import re
from collections.abc import AsyncIterable, AsyncIterator, Sequence

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


async def chunked(
    header: Sequence[str], rows: AsyncIterable[Sequence[object]], *, chunk_rows: int
) -> AsyncIterator[str]:
    """The header, then `rows` as CSV text, `chunk_rows` rows at a time. Text cells that
    come from people are the caller's to pass through `neutralised`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    async for row in rows:
        writer.writerow(row)
        count += 1
        if count % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
