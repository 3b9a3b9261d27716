"""Prometheus metrics, one set per app, safe with several worker processes.

With `PROMETHEUS_MULTIPROC_DIR` set before prometheus_client is first imported (`comptoir
serve --workers N` does it), every worker writes its values to files in that directory and
`/metrics` adds them up, whichever worker answers the scrape. Without it (one worker, tests),
values live in this process's memory.
"""

import asyncio
import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
POOL_WAIT_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
POOL_SAMPLE_SECONDS = 1.0


def multiprocess_dir() -> str | None:
    """The shared directory when prometheus_client chose multi-process values (at import)."""
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "comptoir_http_requests",
            "HTTP requests served, by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "comptoir_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pool_size = Gauge(
            "comptoir_db_pool_connections",
            "Connections the pools hold, by state (sampled every second).",
            ["state"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.pool_max = Gauge(
            "comptoir_db_pool_max_connections",
            "The pools' upper bound (COMPTOIR_POOL_MAX times the workers).",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.pool_wait = Histogram(
            "comptoir_db_pool_wait_seconds",
            "How long requests waited for a pooled connection.",
            buckets=POOL_WAIT_BUCKETS,
            registry=r,
        )
        self.pool_timeouts = Counter(
            "comptoir_db_pool_timeouts",
            "Requests that got 503 because no connection came free in time.",
            registry=r,
        )
        self.checkouts = Counter(
            "comptoir_checkout_outcomes",
            "Checkouts by outcome: ordered, short_of_stock, replayed, refused, retried.",
            ["outcome"],
            registry=r,
        )
        self.db_errors = Counter(
            "comptoir_db_errors",
            "Database errors that reached a client, by SQLSTATE ('connection' when the "
            "server could not be reached at all).",
            ["sqlstate"],
            registry=r,
        )

        self.reads = Counter(
            "comptoir_db_reads",
            "Reads of the replica-eligible routes (catalog, search, analytics), by the node"
            " that served them: replica, or primary (no replica usable, or a fallback).",
            ["node"],
            registry=r,
        )
        self.replica_fallbacks = Counter(
            "comptoir_db_replica_fallbacks",
            "Reads a replica failed (down, recovery conflict, timeout) and the primary served.",
            registry=r,
        )
        self.replica_lag = Gauge(
            "comptoir_db_replica_lag_bytes",
            "Bytes of WAL each replica has yet to replay (-1: not answering), sampled.",
            ["replica"],
            multiprocess_mode="max",
            registry=r,
        )

    # The replicas' observer (comptoir.db.replicas.ReadObserver).
    def read_served(self, node: str) -> None:
        self.reads.labels(node).inc()

    def replica_failed(self) -> None:
        self.replica_fallbacks.inc()

    def replica_lag_sampled(self, replica: str, lag: int | None) -> None:
        self.replica_lag.labels(replica).set(-1 if lag is None else lag)

    # The pool's observer (comptoir.db.pool.PoolObserver).
    def pool_waited(self, seconds: float) -> None:
        self.pool_wait.observe(seconds)

    def pool_timed_out(self) -> None:
        self.pool_timeouts.inc()

    def checkout_retried(self) -> None:
        self.checkouts.labels("retried").inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text: every worker's values when there are several."""
        path = multiprocess_dir()
        if path is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=path)  # type: ignore[no-untyped-call]
        return generate_latest(merged), CONTENT_TYPE_LATEST

    def sample_pool(self, pool: asyncpg.Pool) -> None:
        size, idle = pool.get_size(), pool.get_idle_size()
        self.pool_size.labels("busy").set(size - idle)
        self.pool_size.labels("idle").set(idle)
        self.pool_max.set(pool.get_max_size())

    @asynccontextmanager
    async def watching(self, pool: asyncpg.Pool) -> AsyncIterator[None]:
        """Sample the pool every second while the app runs; on the way out, take this
        worker's pool gauges out of the sum."""

        async def sample() -> None:
            while True:
                self.sample_pool(pool)
                await asyncio.sleep(POOL_SAMPLE_SECONDS)

        task = asyncio.create_task(sample())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            if path := multiprocess_dir():
                multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


def share_between_workers(workers: int) -> None:
    """For `serve --workers N`: give the workers a fresh directory for their values, before
    any of them imports prometheus_client. An operator's own PROMETHEUS_MULTIPROC_DIR is
    kept (they empty it between runs, as prometheus_client asks)."""
    if workers < 2 or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return
    path = tempfile.mkdtemp(prefix="comptoir-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)
