"""Secrets that must not be constants in the code: generated once, kept in the data directory.

Used when the operator did not set them (COMPTOIR_JWT_SECRET, COMPTOIR_WEBHOOK_SECRET). Every
process and worker on the same data directory reads the same value.
"""

import os
import secrets
from pathlib import Path


def kept_secret(data_dir: Path, name: str) -> str:
    """The secret `name` from `data_dir/secrets/`, created on first use (readable by owner only)."""
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
