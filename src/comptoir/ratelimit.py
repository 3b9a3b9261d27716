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
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import NoReturn

import redis.asyncio
from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from comptoir.errors import AppError
from comptoir.settings import Settings


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits == "on"
        self.redis: redis.asyncio.ConnectionPool | None = None
        self.storage: Storage = MemoryStorage()
        if settings.redis_url:
            # Our own connection pool, so that shutdown can close it.
            self.redis = redis.asyncio.ConnectionPool.from_url(settings.redis_url)
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

    async def check(self, item: RateLimitItem, scope: str, client: str) -> None:
        if not self.enabled:
            return
        if await self.limiter.hit(item, scope, client):
            return
        await self.refuse(item, scope, client, what="requests")

    async def refuse(self, item: RateLimitItem, *identifiers: str, what: str) -> NoReturn:
        await _refuse(self.limiter, item, identifiers, what)

    async def check_volume(self, item: RateLimitItem, *identifiers: str, what: str) -> None:
        """429 when `item`'s volume is used up. Spent afterwards (`spend_volume`), when the
        request's cost is known: the request that crosses the line still lands."""
        if not self.enabled or await self.volumes.test(item, *identifiers):
            return
        await _refuse(self.volumes, item, identifiers, what)

    async def spend_volume(self, item: RateLimitItem, *identifiers: str, cost: int) -> None:
        if not self.enabled or cost <= 0 or await self.volumes.hit(item, *identifiers, cost=cost):
            return
        # More than is left: `hit` refuses and counts nothing, so fill what is left; the
        # next request is then refused until the window moves on.
        left = (await self.volumes.get_window_stats(item, *identifiers)).remaining
        if left > 0:
            await self.volumes.hit(item, *identifiers, cost=left)

    async def spent(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether `item`'s budget is used up, without counting a hit."""
        return self.enabled and not await self.limiter.test(item, *identifiers)

    async def count(self, item: RateLimitItem, *identifiers: str) -> None:
        if self.enabled:
            await self.limiter.hit(item, *identifiers)

    async def mark(self, item: RateLimitItem, *identifiers: str) -> None:
        if self.enabled:
            await self.marks.hit(item, *identifiers)

    async def marked(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self.enabled and not await self.marks.test(item, *identifiers)


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


def _trusted(
    address: str, proxies: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else "unknown"
    proxies = request.app.state.rate_limits.proxies
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


def limited(scope: str, limit: Callable[[Settings], str]) -> Callable[[Request], Awaitable[None]]:
    """A dependency that counts one hit of `scope` for the calling client address."""

    async def dependency(request: Request) -> None:
        limits: RateLimits = request.app.state.rate_limits
        item = parse(limit(request.app.state.settings))
        await limits.check(item, scope, client_address(request))

    return dependency
