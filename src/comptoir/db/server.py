"""Which PostgreSQL Comptoir talks to: `DATABASE_URL`, or else the embedded server."""

from comptoir.db import embedded
from comptoir.settings import Settings


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded.attach(settings.data_dir)


def sqlalchemy_url(url: str) -> str:
    """Alembic speaks SQLAlchemy; point it at the same server through the asyncpg driver."""
    rest = url.split("://", 1)[1]
    return f"postgresql+asyncpg://{rest}"
