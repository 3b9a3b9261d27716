"""The application factory: one pool per process, opened and closed by the lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from comptoir import __version__, openapi
from comptoir.accounts import router as accounts
from comptoir.addresses import router as addresses
from comptoir.auth import router as auth
from comptoir.auth import security
from comptoir.backoffice import router as backoffice
from comptoir.carts import router as carts
from comptoir.catalog import router as catalog
from comptoir.checkout import router as checkout
from comptoir.dashboard import router as dashboard
from comptoir.db import migrate
from comptoir.db.door import SYSTEM, Door, PoolDoors
from comptoir.db.replicas import open_replicas
from comptoir.db.server import database_url, open_app_pool
from comptoir.errors import install_error_handlers
from comptoir.events import router as events
from comptoir.health import router as health
from comptoir.leads import router as leads
from comptoir.mail import sender as mail_sender
from comptoir.mail.transport import transport_for
from comptoir.observability.faults import install_fault_handlers
from comptoir.observability.logs import request_logger
from comptoir.observability.metrics import Metrics
from comptoir.observability.middleware import Observe
from comptoir.operations import router as operations
from comptoir.orders import router as orders
from comptoir.orders import service as order_service
from comptoir.payments import providers
from comptoir.payments import router as payments
from comptoir.payments import service as payment_service
from comptoir.payments.provider import Provider
from comptoir.ratelimit import RateLimits
from comptoir.secrets_store import shared_secret
from comptoir.settings import Settings, load_settings
from comptoir.users import router as users

# How long a shutdown waits for the mail being sent (an SMTP server that hangs is cut off).
MAIL_STOP_SECONDS = 5


def create_app(settings: Settings, *, url: str | None = None) -> FastAPI:
    """Build the app; `url` overrides where the database is (tests, the CLI)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Before the first login needs it.
        await asyncio.to_thread(security.dummy_hash, security.password_hasher(settings))
        app.state.pool = await open_app_pool(
            settings, url or database_url(settings), observer=app.state.metrics
        )
        app.state.doors = PoolDoors(app.state.pool, rls=settings.rls == "on")
        # The shop's own upkeep, as the system: every order, no customer.
        system = app.state.doors.to(SYSTEM)
        await _load_secrets(app, system, settings)
        app.state.replicas = None
        sampler = None
        if read_urls := settings.read_url_list():
            app.state.replicas = await open_replicas(
                read_urls, app.state.pool, settings, app.state.metrics
            )
            sampler = asyncio.create_task(
                app.state.replicas.sample_forever(settings.read_lag_sample_ms / 1000)
            )
        sweeper = _start_sweeper(system, settings, app.state.payment_provider)
        # Every worker runs a sender; SKIP LOCKED shares the outbox between them.
        stop_mail = asyncio.Event()
        mailer = asyncio.create_task(
            mail_sender.send_forever(system, transport_for(settings), settings, stop_mail)
        )
        try:
            async with app.state.metrics.watching(app.state.pool):
                yield
        finally:
            # The mail being sent is finished (a few seconds at most), then the sender stops.
            stop_mail.set()
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(mailer), MAIL_STOP_SECONDS)
            for task in (sweeper, mailer, sampler):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            if app.state.replicas is not None:
                await app.state.replicas.close()
            await app.state.pool.close()
            await app.state.rate_limits.close()
            if app.state.payment_provider is not None:
                await app.state.payment_provider.close()

    app = FastAPI(
        title="Comptoir",
        version=__version__,
        summary="An open-source shop backend on PostgreSQL.",
        lifespan=lifespan,
        # Served by openapi.install_docs, from local files.
        docs_url=None,
        redoc_url=None,
        # Starlette's redirect to the other spelling of a path builds its Location from the
        # Host header, which the caller chooses: no redirect, a path is served as written.
        redirect_slashes=False,
        # Operation ids are the route functions' names ("login", "checkout"), unless a route
        # names its own: stable for client generators, whatever the path or the method.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.head_revision = migrate.head_revision()
    app.state.rate_limits = RateLimits(settings)
    app.state.payment_provider = providers.configured(settings)
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_fault_handlers(app)
    app.add_middleware(
        Observe,
        metrics=app.state.metrics,
        log=request_logger(settings),
        slow_ms=settings.slow_request_ms,
        max_body=settings.max_body_bytes,
    )
    if origins := settings.cors_origin_list():
        # Outermost, so that every answer (a 413, a 429, a problem) carries the CORS headers
        # a browser needs to let the storefront read it.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Idempotency-Replay", "Location", "Retry-After", "Link"],
            # Bearer tokens, not cookies: no credentials mode needed.
            allow_credentials=False,
            # The preflight is cached by the browser for 10 minutes (Chromium's ceiling is
            # 2 hours, Firefox's a day): one OPTIONS per route and origin, not per call.
            max_age=600,
        )
    openapi.install(app)
    openapi.install_docs(app)
    for module in (
        health,
        auth,
        accounts,
        addresses,
        catalog,
        carts,
        checkout,
        orders,
        payments,
        users,
        leads,
        events,
        dashboard,
        operations,
        backoffice,
    ):
        app.include_router(module.router)
    return app


async def _load_secrets(app: FastAPI, system: Door, settings: Settings) -> None:
    """The signing secrets: the operator's, or else the ones every instance shares
    (comptoir.secrets_store); the JWT's previous ones still verify after a rotation."""
    app.state.jwt_secret = (
        settings.jwt_secret.get_secret_value()
        if settings.jwt_secret
        else await shared_secret(system, settings.data_dir, "jwt_secret")
    )
    app.state.jwt_keys = (app.state.jwt_secret, *settings.previous_jwt_secrets())
    app.state.webhook_secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else await shared_secret(system, settings.data_dir, "webhook_secret")
    )


def _start_sweeper(
    system: Door, settings: Settings, provider: Provider | None
) -> asyncio.Task[None] | None:
    """Unpaid orders past COMPTOIR_PENDING_ORDER_TTL_MINUTES give their stock back: every
    worker runs the sweep, and a transaction-level advisory lock lets one at a time work.
    Then the provider's intents of cancelled orders are cancelled (no money for an order
    that is gone)."""
    if not settings.pending_order_ttl_minutes:
        return None
    older_than = timedelta(minutes=settings.pending_order_ttl_minutes)

    async def cancel_intents() -> object:
        if provider is None:
            return None
        return await payment_service.cancel_intents(system, provider)

    return asyncio.create_task(
        order_service.sweep_forever(system, older_than=older_than, then=cancel_intents)
    )


def create_app_from_environment() -> FastAPI:
    """Entry point for uvicorn workers: settings from the environment, read at call time."""
    return create_app(load_settings())
