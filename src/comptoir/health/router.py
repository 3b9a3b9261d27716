"""Liveness, readiness and metrics, for load balancers, orchestrators and monitoring."""

import asyncio
import hmac
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from comptoir.auth.deps import _bearer, get_caller
from comptoir.db import migrate
from comptoir.db.deps import Pool
from comptoir.db.pool import PoolExhausted
from comptoir.errors import Forbidden, Responses, ServiceUnavailable
from comptoir.observability.metrics import Metrics

router = APIRouter(tags=["health"])

NOT_READY = {"Retry-After": "2"}


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
    except PoolExhausted:
        raise
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        # A restarted server leaves dead sessions in the pool: replace them all.
        await pool.expire_connections()
        raise ServiceUnavailable("The database does not answer.", headers=NOT_READY) from None
    if current != expected:
        raise ServiceUnavailable(
            f"The schema is at revision {current or 'base'}, the code expects {expected}: "
            "run `comptoir db upgrade`.",
            headers=NOT_READY,
        )
    return {"status": "ready", "schema": current}


async def get_operator(
    request: Request,
    pool: Pool,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The scraper's COMPTOIR_METRICS_TOKEN (no database needed: metrics stay readable while
    the database is down), or else an admin's access token."""
    token = request.app.state.settings.metrics_token
    if credentials and token:
        if hmac.compare_digest(credentials.credentials.encode(), token.get_secret_value().encode()):
            return
    caller = await get_caller(request, pool, credentials)
    if caller.user.role != "admin":
        raise Forbidden("Metrics are for operators: the metrics token or an admin's token.")


METRICS_RESPONSES: Responses = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
    401: {"description": "No token, or not the metrics token nor a valid access token"},
    403: {"description": "A customer's token"},
}


@router.get(
    "/metrics",
    response_class=Response,
    responses=METRICS_RESPONSES,
    dependencies=[Depends(get_operator)],
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of every worker: requests and latency per route and status, the
    pool, checkout outcomes, database errors."""
    registry: Metrics = request.app.state.metrics
    body, content_type = registry.render()
    return Response(body, media_type=content_type)
