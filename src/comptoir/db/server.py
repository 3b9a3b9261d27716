"""Which PostgreSQL Comptoir talks to: `DATABASE_URL`, or else the embedded server."""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from comptoir.db import embedded
from comptoir.settings import Settings

# The login role the app serves as when row-level security is on (migration 0006).
APP_ROLE = "comptoir_app"


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded.attach(settings.data_dir)


def app_database_url(settings: Settings, url: str) -> str:
    """Where the app's pool connects: COMPTOIR_APP_DATABASE_URL when set, in both RLS
    modes (a pooler in front of the API while owner work goes direct); else `url` itself
    with RLS off (the schema's owner, as before), and with RLS on `url` as comptoir_app
    without a password (the embedded server and local `trust` setups)."""
    if settings.app_database_url:
        return settings.app_database_url
    if settings.rls == "off":
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{APP_ROLE}@{host}"))


async def open_app_pool(settings: Settings, url: str, **options: Any) -> asyncpg.Pool:
    """The app's pool on `app_database_url`, with a clear word when RLS is on and the app's
    role cannot log in."""
    # Here, not at the top: the pool brings the web stack (its 503 is an HTTP error), which
    # commands that only need `database_url` (import-json, db ...) should not load.
    from comptoir.db.pool import open_pool

    app_url = app_database_url(settings, url)
    try:
        return await open_pool(app_url, settings, **options)
    except (asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidPasswordError) as exc:
        if settings.rls == "off":
            raise
        raise RuntimeError(
            f"COMPTOIR_RLS is on but the app cannot log in as {urlsplit(app_url).username}: "
            f"{exc}. Run `comptoir db upgrade` as a role that may create roles, or create "
            "the roles as docs/rls.md shows (and set COMPTOIR_APP_DATABASE_URL if the role "
            "needs a password); or set COMPTOIR_RLS=off."
        ) from None


def sqlalchemy_url(url: str) -> str:
    """Alembic speaks SQLAlchemy; point it at the same server through the asyncpg driver."""
    rest = url.split("://", 1)[1]
    return f"postgresql+asyncpg://{rest}"
