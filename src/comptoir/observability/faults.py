"""When the database is away (restarting, failing over, refusing connections), the shop
answers 503 with Retry-After rather than 500, and heals by itself once it is back.

A restart kills every server session: the pool's idle connections are dead too, and each
would fail one more request. The first failure expires them all, so the next requests
reconnect.
"""

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from comptoir.deps import get_metrics, get_pool
from comptoir.errors import ServiceUnavailable, problem

log = logging.getLogger("comptoir.faults")

RETRY_AFTER = "2"

# The server is gone, going, not yet back, or full: nothing the request did is at fault.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # connection refused or reset: the server is down or restarting
    asyncpg.ConnectionDoesNotExistError,  # the session died under the query
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.AdminShutdownError,  # 57P01: terminated by a stop or pg_terminate_backend
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
)


def sqlstate(exc: BaseException) -> str:
    return getattr(exc, "sqlstate", None) or "connection"


async def _database_away(request: Request, exc: Exception) -> JSONResponse:
    # Exception handlers take no dependencies: they ask deps.py, the one reader of the app.
    (await get_metrics(request)).db_errors.labels(sqlstate(exc)).inc()
    await (await get_pool(request)).expire_connections()
    log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return problem(
        503,
        "The database is not reachable right now. Retry shortly.",
        title=ServiceUnavailable.title,
        headers={"Retry-After": RETRY_AFTER},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """Any other database error that no domain code turned into an answer: a 500, counted."""
    (await get_metrics(request)).db_errors.labels(sqlstate(exc)).inc()
    log.exception("database error on %s %s", request.method, request.url.path)
    return problem(500, "Something went wrong on our side.")


def connection_lost(exc: BaseException) -> bool:
    """A transaction whose session died under it: the statement failed with the database
    away, then asyncpg's rollback found the connection closed and raised InterfaceError
    ("cannot call Transaction.__aexit__(): the underlying connection is closed") in its
    place. Any other InterfaceError is a misuse of the driver: a bug."""
    cause = exc.__context__
    return isinstance(cause, UNAVAILABLE) or "connection is closed" in str(exc)


async def _interface_error(request: Request, exc: Exception) -> JSONResponse:
    if connection_lost(exc):
        return await _database_away(request, exc)
    return await _database_error(request, exc)


def install_fault_handlers(app: FastAPI) -> None:
    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _database_away)
    app.add_exception_handler(asyncpg.PostgresError, _database_error)
    app.add_exception_handler(asyncpg.InterfaceError, _interface_error)
