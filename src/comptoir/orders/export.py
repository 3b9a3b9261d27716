"""Orders as CSV for whoever packs the parcels: one row per order line, with who ordered and
where it goes; streamed (comptoir/csv_export.py)."""

from collections.abc import AsyncIterator

from comptoir.csv_export import CHUNK_ROWS, chunked, neutralised
from comptoir.db.door import Door
from comptoir.orders import queries

ADDRESS_FIELDS = ("name", "line1", "line2", "postal_code", "city", "country", "phone")
HEADER = (
    "order_id",
    "created_at",
    "status",
    "order_total",
    "currency",
    "customer_email",
    "customer_name",
    *(f"shipping_{f}" for f in ADDRESS_FIELDS),
    *(f"billing_{f}" for f in ADDRESS_FIELDS),
    "product_id",
    "product",
    "quantity",
    "unit_price",
)


def _address(address: dict[str, str | None] | None) -> list[str]:
    return [neutralised((address or {}).get(f) or "") for f in ADDRESS_FIELDS]


async def orders_csv(
    db: Door, *, filters: queries.AdminFilter, currency: str, chunk_rows: int = CHUNK_ROWS
) -> AsyncIterator[str]:
    # The connection is taken when the response starts, and held until the last row.
    async with db.transaction() as conn:
        lines = queries.iter_fulfilment_lines(conn, filters=filters, prefetch=chunk_rows)
        rows = (
            (
                line.order_id,
                line.created_at.isoformat(),
                line.status,
                line.total,
                currency,
                neutralised(line.email),
                neutralised(line.name or ""),
                *_address(line.shipping),
                *_address(line.billing),
                line.product_id,
                neutralised(line.product),
                line.quantity,
                line.unit_price,
            )
            async for line in lines
        )
        async for chunk in chunked(HEADER, rows, chunk_rows=chunk_rows):
            yield chunk
