"""Per-client rate limits for the public write endpoints (register, login, leads, events),
and the per-account limit of failed logins.

Counters live in memory (one process) or in Redis when REDIS_URL is set, so that every
worker and host shares them. Moving window: no burst at a window's edge.

The client is the peer's address, unless the peer is one of COMPTOIR_TRUSTED_PROXIES: then
it is the last address of X-Forwarded-For that is not a trusted proxy (what each proxy
appended; what the client wrote itself comes before and is not believed). uvicorn applies
the same rule when `comptoir serve` runs it; doing it here too keeps the limits right under
any server, and is idempotent (uvicorn's answer is not a trusted proxy).
"""

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Iterable, Sequence
from typing import Literal, NoReturn

import redis.asyncio
import redis.exceptions
from fastapi import Request
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from comptoir.errors import AppError, ServiceUnavailable
from comptoir.settings import Settings

log = logging.getLogger("comptoir.ratelimit")


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"


class RateLimitStoreDown(ServiceUnavailable):
    """Redis does not answer and COMPTOIR_REDIS_FAILURE is `closed`."""

    def __init__(self) -> None:
        super().__init__(
            "The rate-limit store does not answer: this request cannot be counted. Retry shortly.",
            headers={"Retry-After": "5"},
        )


# What a Redis that is down or unreachable raises (limits passes redis-py's errors on).
STORE_ERRORS = (redis.exceptions.RedisError, OSError, TimeoutError)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits == "on"
        self.fail_open = settings.redis_failure == "open"
        self.redis: redis.asyncio.ConnectionPool | None = None
        self.storage: Storage = MemoryStorage()
        if settings.redis_url:
            # Our own connection pool, so that shutdown can close it; bounded waits, so that
            # a Redis that hangs costs a request 2 s, not the client's patience.
            self.redis = redis.asyncio.ConnectionPool.from_url(
                settings.redis_url, socket_timeout=2, socket_connect_timeout=2
            )
            self.storage = RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                connection_pool=self.redis,  # type: ignore[arg-type]  # passed through
            )
        self.limiter = MovingWindowRateLimiter(self.storage)
        # One counter per (account, address) that logged in: a mark that expires, not a
        # limit (a fixed window is one key with a TTL, where a moving one keeps every hit).
        self.marks = FixedWindowRateLimiter(self.storage)
        self.proxies = settings.proxy_networks()
        # Volumes (bytes) are counted with a cost per hit: a moving window would keep one
        # entry per byte, the sliding window counter keeps two counters per key.
        self.volumes = SlidingWindowCounterRateLimiter(self.storage)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    async def store_state(self) -> Literal["memory", "up", "down"]:
        """For /readyz's body: where the counters live, and whether that answers."""
        if self.redis is None:
            return "memory"
        try:
            answers = await self.storage.check()
        except STORE_ERRORS:
            answers = False
        return "up" if answers else "down"

    async def _ask(self, question: Awaitable[bool], if_down: bool) -> bool:
        """The store's answer; when Redis is down, `if_down` (fail open) or a 503."""
        try:
            return await question
        except STORE_ERRORS:
            if self.fail_open:
                log.warning("rate-limit store down: request let through uncounted")
                return if_down
            raise RateLimitStoreDown() from None

    async def check(self, item: RateLimitItem, scope: str, client: str) -> None:
        if not self.enabled:
            return
        if await self._ask(self.limiter.hit(item, scope, client), if_down=True):
            return
        await self.refuse(item, scope, client, what="requests")

    async def refuse(self, item: RateLimitItem, *identifiers: str, what: str) -> NoReturn:
        await _refuse(self.limiter, item, identifiers, what)

    async def check_volume(self, item: RateLimitItem, *identifiers: str, what: str) -> None:
        """429 when `item`'s volume is used up. Spent afterwards (`spend_volume`), when the
        request's cost is known: the request that crosses the line still lands."""
        if not self.enabled or await self._ask(self.volumes.test(item, *identifiers), True):
            return
        await _refuse(self.volumes, item, identifiers, what)

    async def spend_volume(self, item: RateLimitItem, *identifiers: str, cost: int) -> None:
        if not self.enabled or cost <= 0:
            return
        if await self._ask(self.volumes.hit(item, *identifiers, cost=cost), if_down=True):
            return
        # More than is left: `hit` refuses and counts nothing, so fill what is left; the
        # next request is then refused until the window moves on.
        left = (await self.volumes.get_window_stats(item, *identifiers)).remaining
        if left > 0:
            await self.volumes.hit(item, *identifiers, cost=left)

    async def spent(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether `item`'s budget is used up, without counting a hit."""
        if not self.enabled:
            return False
        return not await self._ask(self.limiter.test(item, *identifiers), if_down=True)

    async def count(self, item: RateLimitItem, *identifiers: str) -> None:
        if self.enabled:
            await self._ask(self.limiter.hit(item, *identifiers), if_down=True)

    async def mark(self, item: RateLimitItem, *identifiers: str) -> None:
        if self.enabled:
            await self._ask(self.marks.hit(item, *identifiers), if_down=True)

    async def marked(self, item: RateLimitItem, *identifiers: str) -> bool:
        if not self.enabled:
            return False
        return not await self._ask(self.marks.test(item, *identifiers), if_down=True)


async def _refuse(
    limiter: RateLimiter, item: RateLimitItem, identifiers: tuple[str, ...], what: str
) -> NoReturn:
    """429, with the seconds until `limiter`'s window lets `identifiers` in again."""
    stats = await limiter.get_window_stats(item, *identifiers)
    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
    raise TooManyRequests(
        f"Too many {what}: at most {item}. Try again in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request, proxies: Sequence[Network]) -> str:
    peer = request.client.host if request.client else "unknown"
    if not proxies or not _trusted(peer, proxies):
        return str(peer)
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    # Only proxies on the way (or no header): the first of them is as close as we get.
    return hops[0] if hops else str(peer)
