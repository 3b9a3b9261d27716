"""Streaming replicas for the reads that may be a moment behind: the catalog, search,
product pages and the back office's analytics (docs/deployment.md, "Read replicas").

Customer-owned reads, token checks and every write stay on the primary: a customer sees
their cart and their new order at once, and a logged-out token is refused at once. A sampler
compares each replica's replay position with the primary's WAL position; a replica more
than COMPTOIR_READ_MAX_LAG_BYTES behind, or not answering, gets no reads until it catches
up. A read a replica fails (stopped, a recovery conflict, a timeout, its pool full) is run
once on the primary: a replica costs no request.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg

from comptoir.db.door import Caller, Door, P, PoolDoor, Query, T
from comptoir.db.pool import PoolExhausted, open_pool
from comptoir.settings import Settings

log = logging.getLogger("comptoir.db.replicas")

# Failures of the replica, not of the query: the same read on the primary will do.
REPLICA_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    PoolExhausted,
    asyncpg.InterfaceError,
    # A session the replica ended under a pooled connection (see pool.CONNECTION_TROUBLE).
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
    # 40001: "canceling statement due to conflict with recovery" (a vacuum or a partition
    # change replayed from the primary).
    asyncpg.SerializationError,
    asyncpg.QueryCanceledError,  # statement_timeout on a replica busy replaying
    asyncpg.ReadOnlySQLTransactionError,  # a read route that writes after all
)


class ReadObserver(Protocol):
    """Where the replicas report (the metrics)."""

    def read_served(self, node: str) -> None: ...

    def replica_failed(self) -> None: ...

    def replica_lag_sampled(self, replica: str, lag: int | None) -> None: ...


def lsn_bytes(lsn: str) -> int:
    """A WAL position as PostgreSQL writes it (`16/B374D848`), in bytes."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class Replica:
    name: str
    pool: asyncpg.Pool
    # Bytes behind the primary at the last sample; None: not answering (or not sampled yet).
    lag: int | None = None


@dataclass
class Replicas:
    """The replicas of one process, with the lag guard's view of them."""

    primary: asyncpg.Pool
    members: list[Replica]
    max_lag: int
    rls: bool
    observer: ReadObserver
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def usable(self) -> Replica | None:
        """The next replica (round robin) within the lag allowed, if any."""
        fit = [r for r in self.members if r.lag is not None and r.lag <= self.max_lag]
        return fit[next(self._turn) % len(fit)] if fit else None

    async def sample(self) -> None:
        primary_lsn = lsn_bytes(await self.primary.fetchval("SELECT pg_current_wal_lsn()::text"))
        for replica in self.members:
            replica.lag = await _lag(replica, primary_lsn)
            self.observer.replica_lag_sampled(replica.name, replica.lag)

    async def sample_forever(self, every: float) -> None:
        while True:
            try:
                await self.sample()
            except Exception:  # the primary away: the pool's own errors say so
                log.warning("replica lag not sampled: the primary does not answer")
                for replica in self.members:
                    replica.lag = None
            await asyncio.sleep(every)

    def to(self, caller: Caller, primary: Door) -> Door:
        return ReplicaDoor(self, caller, primary)

    async def close(self) -> None:
        for replica in self.members:
            await replica.pool.close()


async def _lag(replica: Replica, primary_lsn: int) -> int | None:
    try:
        async with asyncio.timeout(2):
            replayed = await replica.pool.fetchval("SELECT pg_last_wal_replay_lsn()::text")
    except REPLICA_FAILURES:
        return None
    if replayed is None:  # not a standby: a primary given as a read URL serves as is
        return 0
    return max(0, primary_lsn - lsn_bytes(replayed))


@dataclass(frozen=True)
class ReplicaDoor:
    """A door for reads: on a replica when one is close enough, else on the primary."""

    replicas: Replicas
    caller: Caller
    primary: Door

    async def one(self, query: Query[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        replica = self.replicas.usable()
        if replica is not None:
            door = PoolDoor(replica.pool, self.caller, self.replicas.rls)
            try:
                result = await door.one(query, *args, **kwargs)
            except REPLICA_FAILURES as exc:
                self._failed(replica, exc)
            else:
                self.replicas.observer.read_served("replica")
                return result
        self.replicas.observer.read_served("primary")
        return await self.primary.one(query, *args, **kwargs)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """Several reads on one snapshot (search: its spellings, then the page), on a
        replica if one can open the transaction, else on the primary. A failure after
        that is the request's: the block has run, it cannot be run again here."""
        replica = self.replicas.usable()
        if replica is not None:
            opening = PoolDoor(replica.pool, self.caller, self.replicas.rls).transaction()
            try:
                conn = await opening.__aenter__()
            except REPLICA_FAILURES as exc:
                self._failed(replica, exc)
            else:
                self.replicas.observer.read_served("replica")
                async with _entered(opening, conn) as entered:
                    yield entered
                return
        self.replicas.observer.read_served("primary")
        async with self.primary.transaction() as conn:
            yield conn

    def _failed(self, replica: Replica, exc: BaseException) -> None:
        log.warning("replica %s failed a read (%r): served by the primary", replica.name, exc)
        self.replicas.observer.replica_failed()
        # Not asked again until the sampler finds it answering.
        replica.lag = None


@asynccontextmanager
async def _entered(
    opened: AbstractAsyncContextManager[asyncpg.Connection], conn: asyncpg.Connection
) -> AsyncIterator[asyncpg.Connection]:
    """A context manager already entered, exited as `async with` would."""
    try:
        yield conn
    except BaseException as exc:
        if not await opened.__aexit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        await opened.__aexit__(None, None, None)


async def open_replicas(
    urls: list[str],
    primary: asyncpg.Pool,
    settings: Settings,
    observer: ReadObserver,
) -> Replicas:
    """One pool per replica, connecting on demand (no minimum): a replica down at start
    only waits for the sampler to find it answering. The roles' settings a pooler needs
    are replicated with the catalogue, so the primary's check stands for the replicas."""
    on_demand = settings.model_copy(update={"pool_min": 0})
    members = [
        Replica(f"replica{i}", await open_pool(url, on_demand, check_session=False))
        for i, url in enumerate(urls, 1)
    ]
    return Replicas(primary, members, settings.read_max_lag_bytes, settings.rls == "on", observer)
