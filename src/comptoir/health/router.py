"""Liveness and readiness, for load balancers and orchestrators."""

import asyncio

import asyncpg
from fastapi import APIRouter, Request

from comptoir.db import migrate
from comptoir.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
async def readyz(request: Request) -> dict[str, str]:
    """The database answers and its schema is at the latest migration."""
    pool: asyncpg.Pool = request.app.state.pool
    expected: str = request.app.state.head_revision
    try:
        async with asyncio.timeout(3), pool.acquire() as conn:
            current = await migrate.fetch_revision(conn)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        raise ServiceUnavailable("The database does not answer.") from None
    if current != expected:
        raise ServiceUnavailable(
            f"The schema is at revision {current or 'base'}, the code expects {expected}: "
            "run `comptoir db upgrade`."
        )
    return {"status": "ready", "schema": current}
