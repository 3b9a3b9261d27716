"""Secrets that must not be constants in the code, shared by every instance of the shop.

Used when the operator did not set them (COMPTOIR_JWT_SECRET, COMPTOIR_WEBHOOK_SECRET): the
first instance to start keeps one in the database (`app_secrets`), every instance and worker
then reads that one, so a token issued by one is accepted by all. A secret an older version
kept in the data directory is the one carried into the database, so that tokens and webhook
signatures already out keep working after the upgrade.
"""

import os
import secrets
from pathlib import Path

import asyncpg

from comptoir.db import secrets as queries
from comptoir.db.door import Door


def _legacy(data_dir: Path, name: str) -> str | None:
    path = data_dir / "secrets" / name
    try:
        value = path.read_text().strip()
    except OSError:
        return None
    return value if len(value) >= 32 else None


async def shared_secret(system: Door, data_dir: Path, name: str) -> str:
    candidate = _legacy(data_dir, name) or secrets.token_urlsafe(48)
    # Twice at most: a None means another instance's row landed during the first statement.
    for _ in range(2):
        try:
            value = await system.one(queries.fetch_secret, name=name) or await system.one(
                queries.keep_secret, name=name, candidate=candidate
            )
        except asyncpg.UndefinedTableError:
            # `serve --no-migrate` on a database behind the code: this instance alone, as
            # before 0015, until the migrations land (/readyz says 503 meanwhile).
            return kept_secret(data_dir, name)
        if value:
            return value
    raise RuntimeError(f"the shared secret {name} could not be read from app_secrets")


def kept_secret(data_dir: Path, name: str) -> str:
    """The secret `name` from `data_dir/secrets/`, created on first use (owner only)."""
    folder = data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    if not path.exists():
        # Written whole to a private file, then linked into place: when two processes start
        # at once, exactly one link succeeds and both read the same complete secret.
        draft = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
