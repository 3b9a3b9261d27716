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


# What the driver raises when the server is gone or restarting. InternalClientError too:
# a session the server ended under it (a restart, DROP DATABASE ... WITH (FORCE)) can trip
# asyncpg's protocol-state check ("another operation is in progress") before asyncpg
# notices that the connection is closed.
CONNECTION_TROUBLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


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


# What every session of the app's pool must run with. Direct, these are startup parameters;
# behind PgBouncer (which refuses startup parameters it does not track, or drops them when
# told to ignore them) they must be the role's own, and the pool checks that they are.
IDLE_IN_TRANSACTION_MS = 60_000


def _session_settings(settings: Settings) -> dict[str, str]:
    return {
        "default_transaction_isolation": "read committed",
        "statement_timeout": str(settings.statement_timeout_ms),
        # A session that dies inside a transaction must not hold its locks for ever.
        "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
    }


def _pooled_session_settings(settings: Settings) -> dict[str, str]:
    # JIT off too: asyncpg turns it off for its type introspection and back on after, two
    # statements that a transaction pooler may send to two server sessions. With the role's
    # JIT off, the first changes nothing and the second is not sent. (JIT only pays off on
    # long analytic queries, not on a shop's short ones.)
    return {**_session_settings(settings), "jit": "off"}


class PoolerSettingsMissing(RuntimeError):
    """Behind a pooler, the role's own settings differ from what the app needs."""


SHOW_SESSION = "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name"


async def check_pooled_session(pool: asyncpg.Pool, settings: Settings) -> None:
    """Behind a pooler, refuse to serve with timeouts other than the settings': a statement
    without a timeout would hold a server connection that every instance shares."""
    wanted = _pooled_session_settings(settings)
    async with pool.acquire() as conn:
        user = await conn.fetchval("SELECT current_user")
        rows = await conn.fetch(SHOW_SESSION, list(wanted))
    found = {row["name"]: row["setting"] for row in rows}
    wrong = {name: value for name, value in wanted.items() if found.get(name) != value}
    if wrong:
        fixes = "; ".join(
            f"ALTER ROLE {user} SET {name} = '{value}'" for name, value in sorted(wrong.items())
        )
        raise PoolerSettingsMissing(
            f"COMPTOIR_POOLER=pgbouncer: the app cannot pass its session settings through "
            f"the pooler, so they must be the role's own, and {user} has "
            + ", ".join(f"{name}={found.get(name)}" for name in sorted(wrong))
            + f". Run, as the database owner: {fixes}; then start again."
        )


async def open_pool(
    url: str,
    settings: Settings,
    observer: PoolObserver | None = None,
    *,
    check_session: bool = True,
) -> asyncpg.Pool:
    pooled = settings.pooler == "pgbouncer"
    server_settings = {"application_name": "comptoir", "timezone": "UTC"}
    if not pooled:
        server_settings |= _session_settings(settings)
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
        # asyncpg names its cached statements alike in every process: through a pooler in
        # transaction mode one process would run another's (docs/deployment.md).
        statement_cache_size=settings.cache_size(),
        server_settings=server_settings,
    )
    # asyncpg's create_pool does this same await; the class is ours so that every
    # acquisition is bounded.
    await pool
    if pooled and check_session:
        try:
            await check_pooled_session(pool, settings)
        except BaseException:
            await pool.close()
            raise
    return pool
