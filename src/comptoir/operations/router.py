"""The database's health for the back office (admins, read-only)."""

from typing import Annotated

from fastapi import APIRouter, Query

from comptoir.auth.deps import StaffDb
from comptoir.db import stats
from comptoir.errors import Responses
from comptoir.operations.schemas import DbStats, StatsSection

router = APIRouter(tags=["admin"])

ADMIN: Responses = {401: {"description": "No token"}, 403: {"description": "Not an admin"}}


@router.get("/v1/admin/db/stats", responses=ADMIN)
async def db_stats(
    db: StaffDb,
    limit: Annotated[int, Query(ge=1, le=50, description="Rows per section.")] = 10,
) -> DbStats:
    """What `comptoir db stats --json` shows: slowest and most frequent statements, lock
    waits now, dead tuples and last vacuum, unused and bloated indexes, partitions. Only
    reads statistics views; a section the API's database role may not read comes back
    empty with a hint."""
    # Several reads of the statistics views, one snapshot of them.
    async with db.transaction() as conn:
        sections = await stats.read_sections(conn, limit=limit)
    return DbStats(
        sections=[StatsSection(title=s.title, rows=s.rows, hint=s.hint) for s in sections]
    )
