"""What a route may ask of the app, typed: its settings, the shop's currency, the secrets,
the metrics, the rate limits, and the doors to the database.

Routes take these as `Annotated` dependencies (`settings: SettingsDep`, `db: PublicDb`)
instead of reading the untyped `request.app.state`: this module is the one reader. The
caller-bound doors that need a signed-in user (`CustomerDb`, `StaffDb`) are in
`comptoir.auth.deps`, beside the user they are bound to.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
from argon2 import PasswordHasher
from fastapi import Depends, Request
from limits import parse

from comptoir.auth import security
from comptoir.db.door import PUBLIC, SYSTEM, Door, Doors
from comptoir.db.replicas import Replicas
from comptoir.observability.metrics import Metrics
from comptoir.payments.provider import Provider
from comptoir.ratelimit import RateLimits, client_address
from comptoir.settings import Settings

# The dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, a hop
# per request for a lookup.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_password_hasher(settings: SettingsDep) -> PasswordHasher:
    return security.password_hasher(settings)


# argon2id with the settings' parameters: what the API hashes passwords with.
Hasher = Annotated[PasswordHasher, Depends(get_password_hasher)]


async def get_currency(request: Request) -> str:
    # get_settings called, not depended on: most routes ask for the currency, and each
    # dependency FastAPI resolves is work on every request.
    return (await get_settings(request)).currency


Currency = Annotated[str, Depends(get_currency)]


async def get_jwt_secret(request: Request) -> str:
    secret: str = request.app.state.jwt_secret
    return secret


JwtSecret = Annotated[str, Depends(get_jwt_secret)]


async def get_jwt_keys(request: Request) -> tuple[str, ...]:
    """The keys a token may be signed with: the secret, then the previous ones still
    accepted after a rotation (COMPTOIR_JWT_PREVIOUS_SECRETS)."""
    keys: tuple[str, ...] = request.app.state.jwt_keys
    return keys


JwtKeys = Annotated[tuple[str, ...], Depends(get_jwt_keys)]


async def get_webhook_secret(request: Request) -> str:
    secret: str = request.app.state.webhook_secret
    return secret


WebhookSecret = Annotated[str, Depends(get_webhook_secret)]


async def get_payment_provider(request: Request) -> Provider | None:
    """The shop's payment provider; None when none is configured (Stripe's keys unset)."""
    provider: Provider | None = request.app.state.payment_provider
    return provider


PaymentProvider = Annotated[Provider | None, Depends(get_payment_provider)]


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def get_rate_limits(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]


async def get_client_address(request: Request, limits: RateLimitsDep) -> str:
    """The calling client's address, believing X-Forwarded-For from the trusted proxies
    only (comptoir.ratelimit.client_address)."""
    return client_address(request, limits.proxies)


ClientAddress = Annotated[str, Depends(get_client_address)]


def limited(scope: str, limit: Callable[[Settings], str]) -> Callable[..., Awaitable[None]]:
    """A dependency that counts one hit of `scope` for the calling client address."""

    async def dependency(
        limits: RateLimitsDep, settings: SettingsDep, address: ClientAddress
    ) -> None:
        await limits.check(parse(limit(settings)), scope, address)

    return dependency


async def get_pool(request: Request) -> asyncpg.Pool:
    """The pool itself: for readiness, which checks the pool's own connections. Everything
    else reaches the database through a door."""
    pool: asyncpg.Pool = request.app.state.pool
    return pool


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]


async def get_head_revision(request: Request) -> str:
    """The schema revision this code expects (read from the migrations once, at start)."""
    revision: str = request.app.state.head_revision
    return revision


HeadRevision = Annotated[str, Depends(get_head_revision)]


async def get_doors(request: Request) -> Doors:
    """The app's pool as doors; tests override this with doors on their own connection."""
    doors: Doors = request.app.state.doors
    return doors


DoorsDep = Annotated[Doors, Depends(get_doors)]


async def get_public_db(doors: DoorsDep) -> Door:
    return doors.to(PUBLIC)


async def get_system_db(doors: DoorsDep) -> Door:
    return doors.to(SYSTEM)


async def get_replicas(request: Request) -> Replicas | None:
    """The read replicas (COMPTOIR_READ_DATABASE_URLS), if any; tests' apps have none."""
    replicas: Replicas | None = getattr(request.app.state, "replicas", None)
    return replicas


async def get_read_db(request: Request, doors: DoorsDep) -> Door:
    """The public door for reads that may be a moment behind (the catalog, search): on a
    replica when COMPTOIR_READ_DATABASE_URLS names some, else the public door."""
    replicas = await get_replicas(request)
    public = doors.to(PUBLIC)
    return public if replicas is None else replicas.to(PUBLIC, public)


# Anyone: what the catalog shows, what anonymous requests write.
PublicDb = Annotated[Door, Depends(get_public_db)]
# Anyone, reading what may come from a replica: the catalog, search, product pages.
ReadDb = Annotated[Door, Depends(get_read_db)]
# The payment provider and the shop's own upkeep: every order, no customer.
SystemDb = Annotated[Door, Depends(get_system_db)]
