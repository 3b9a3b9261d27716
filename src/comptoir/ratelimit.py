"""Per-client rate limits for the public write endpoints (register, login, leads, events).

Counters live in memory (one process) or in Redis when REDIS_URL is set, so that every
worker and host shares them. Moving window: no burst at a window's edge.
"""

import math
import time
from collections.abc import Awaitable, Callable

import redis.asyncio
from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

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

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    async def check(self, item: RateLimitItem, scope: str, client: str) -> None:
        if not self.enabled:
            return
        if await self.limiter.hit(item, scope, client):
            return
        stats = await self.limiter.get_window_stats(item, scope, client)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Too many requests: at most {item}. Try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers puts the real client here.
    return request.client.host if request.client else "unknown"


def limited(scope: str, limit: Callable[[Settings], str]) -> Callable[[Request], Awaitable[None]]:
    """A dependency that counts one hit of `scope` for the calling client address."""

    async def dependency(request: Request) -> None:
        limits: RateLimits = request.app.state.rate_limits
        item = parse(limit(request.app.state.settings))
        await limits.check(item, scope, client_address(request))

    return dependency
