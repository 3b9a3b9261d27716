"""SQL of saved addresses."""

from uuid import UUID

import asyncpg

from comptoir.addresses.schemas import Address, SavedAddress

COLUMNS = "id, name, line1, line2, postal_code, city, country, phone, created_at"
# A customer keeps a handful, not a phone book: enough for home, work and family.
MAX_SAVED = 20


def _saved(row: asyncpg.Record) -> SavedAddress:
    return SavedAddress.model_validate(dict(row))


async def list_addresses(conn: asyncpg.Connection, *, user_id: UUID) -> list[SavedAddress]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM addresses WHERE user_id = $1 ORDER BY created_at, id", user_id
    )
    return [_saved(r) for r in rows]


async def insert_address(
    conn: asyncpg.Connection, *, user_id: UUID, address: Address
) -> SavedAddress | None:
    """The saved address; None when the customer already has MAX_SAVED."""
    row = await conn.fetchrow(
        "INSERT INTO addresses (user_id, name, line1, line2, postal_code, city, country, phone)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, $8"
        " WHERE (SELECT count(*) FROM addresses WHERE user_id = $1) < $9"
        f" RETURNING {COLUMNS}",
        user_id,
        address.name,
        address.line1,
        address.line2,
        address.postal_code,
        address.city,
        address.country,
        address.phone,
        MAX_SAVED,
    )
    return _saved(row) if row else None


async def delete_address(conn: asyncpg.Connection, *, user_id: UUID, address_id: UUID) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM addresses WHERE id = $1 AND user_id = $2 RETURNING true", address_id, user_id
    )
    return bool(deleted)
