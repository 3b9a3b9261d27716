"""One bounded asyncpg pool per process, with a bounded wait for its connections."""

import time
from collections.abc import Generator
from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolAcquireContext, PoolConnectionProxy

from comptoir.errors import ServiceUnavailable
from comptoir.settings import Settings


class PoolObserver(Protocol):
    """Where the pool reports how long requests waited for a connection (the metrics)."""

    def pool_waited(self, seconds: float) -> None: ...

    def pool_timed_out(self) -> None: ...


class PoolExhausted(ServiceUnavailable):
    """Every connection stayed busy for the whole wait: come back shortly."""

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"The shop is busy: no database connection came free within {waited:g} s. "
            "Retry shortly.",
            headers={"Retry-After": "1"},
        )


class _BoundedAcquire(PoolAcquireContext):
    """asyncpg's acquire, timed, with its timeout turned into a 503 the client can act on."""

    pool: "BoundedPool"  # only BoundedPool.acquire makes one
    timeout: float

    async def __aenter__(self) -> PoolConnectionProxy:
        self.connection = await self.pool.timed_acquire(self.timeout)
        return self.connection

    def __await__(self) -> Generator[Any, None, PoolConnectionProxy]:
        self.done = True
        return self.pool.timed_acquire(self.timeout).__await__()


class BoundedPool(asyncpg.Pool):
    """Every acquisition, `pool.fetch(...)` included (asyncpg routes those through
    `acquire()`), waits at most `wait` seconds: beyond the pool, requests get a quick 503
    with Retry-After instead of joining an unbounded queue."""

    def __init__(
        self, *args: Any, wait: float, observer: PoolObserver | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.wait = wait
        self.observer = observer

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return _BoundedAcquire(self, self.wait if timeout is None else timeout)

    async def timed_acquire(self, wait: float) -> PoolConnectionProxy:
        started = time.perf_counter()
        try:
            # asyncpg's own acquire, awaited: its private _acquire(wait), by the public door.
            connection = await super().acquire(timeout=wait)
        except TimeoutError:
            if self.observer:
                self.observer.pool_timed_out()
            raise PoolExhausted(wait) from None
        if self.observer:
            self.observer.pool_waited(time.perf_counter() - started)
        return connection


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): a round trip on every release, for session state Comptoir never creates —
    its settings are per transaction (`SET LOCAL`, `set_config(..., true)`). asyncpg still
    rolls back a transaction left open."""


async def open_pool(
    url: str, settings: Settings, observer: PoolObserver | None = None
) -> asyncpg.Pool:
    pool = BoundedPool(
        url,
        wait=settings.pool_wait_ms / 1000,
        observer=observer,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        reset=_keep_session,
        server_settings={
            "application_name": "comptoir",
            "default_transaction_isolation": "read committed",
            "statement_timeout": str(settings.statement_timeout_ms),
            # A session that dies inside a transaction must not hold its locks for ever.
            "idle_in_transaction_session_timeout": "60000",
            "timezone": "UTC",
        },
    )
    # asyncpg's create_pool does this same await; the class is ours so that every
    # acquisition is bounded.
    await pool
    return pool
