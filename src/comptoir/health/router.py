"""Liveness, readiness and metrics, for load balancers, orchestrators and monitoring."""

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from comptoir.auth.deps import bearer, get_caller
from comptoir.db import migrate
from comptoir.db.pool import CONNECTION_TROUBLE, PoolExhausted
from comptoir.deps import (
    HeadRevision,
    JwtKeys,
    MetricsDep,
    PoolDep,
    PublicDb,
    RateLimitsDep,
    SettingsDep,
)
from comptoir.errors import Forbidden, Responses, ServiceUnavailable

router = APIRouter(tags=["health"])

NOT_READY = {"Retry-After": "2"}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
async def readyz(pool: PoolDep, expected: HeadRevision, limits: RateLimitsDep) -> dict[str, str]:
    """The database answers and its schema serves this code: at the code's revision, or
    at a later one that declares this code still served (a rolling deploy, expand first).
    `redis` says where the rate limits are counted and whether that store answers."""
    try:
        async with asyncio.timeout(3), pool.acquire() as conn:
            schema = await migrate.fetch_schema(conn)
    except PoolExhausted:
        raise
    except CONNECTION_TROUBLE:
        # A restarted server leaves dead sessions in the pool: replace them all.
        await pool.expire_connections()
        raise ServiceUnavailable("The database does not answer.", headers=NOT_READY) from None
    if not schema.serves_code_at(expected):
        raise ServiceUnavailable(
            f"The schema is at revision {schema.revision or 'base'}, the code expects "
            f"{expected}: run `comptoir db upgrade`.",
            headers=NOT_READY,
        )
    return {
        "status": "ready",
        "schema": schema.revision or "base",
        "redis": await limits.store_state(),
    }


async def get_operator(
    request: Request,
    settings: SettingsDep,
    db: PublicDb,
    jwt_keys: JwtKeys,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """The scraper's COMPTOIR_METRICS_TOKEN (no database needed: metrics stay readable while
    the database is down), or else an admin's access token."""
    token = settings.metrics_token
    if credentials and token:
        if hmac.compare_digest(credentials.credentials.encode(), token.get_secret_value().encode()):
            return
    caller = await get_caller(request, db, jwt_keys, credentials)
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
async def metrics(registry: MetricsDep) -> Response:
    """Prometheus metrics of every worker: requests and latency per route and status, the
    pool, checkout outcomes, database errors."""
    body, content_type = registry.render()
    return Response(body, media_type=content_type)
