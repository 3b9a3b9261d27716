"""Password hashing and access tokens.

Hashes are argon2id. Legacy hashes of imported accounts (bcrypt here, the other schemes in
`legacy.py`) are verified and replaced by argon2id at the first successful login. Hashing
is slow on purpose, so it runs in a worker thread: a login must not stall the event loop
and every other request with it.
"""

import asyncio
import functools
import hashlib
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import bcrypt
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from comptoir.auth import legacy
from comptoir.settings import Settings

ALGORITHM = "HS256"
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")

# argon2-cffi's defaults (RFC 9106's second profile), which are also Settings' argon2_*
# defaults: what the CLI's commands hash with, and the API unless its settings say otherwise.
STANDARD = PasswordHasher()


def password_hasher(settings: Settings) -> PasswordHasher:
    """The hasher of the settings' argon2_* parameters."""
    return _hasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


@functools.cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    # One per process and parameters: `dummy_hash` is made once for each.
    if (time_cost, memory_kib, parallelism) == (
        STANDARD.time_cost,
        STANDARD.memory_cost,
        STANDARD.parallelism,
    ):
        return STANDARD
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@functools.cache
def dummy_hash(hasher: PasswordHasher = STANDARD) -> str:
    """Verified when the email is unknown, so that an unknown email costs the same as a wrong
    password and response times do not reveal which accounts exist. Made once per process
    and hasher (its parameters set the cost): the app makes it as it starts (so no login
    pays for it), and commands that never check a password (import-json, db, ...) never
    spend an argon2id hash on it."""
    return hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Verdict:
    valid: bool
    new_hash: str | None = None  # set when the stored hash should be replaced


def _verify(stored: str | None, password: str, hasher: PasswordHasher) -> Verdict:
    if stored is None:
        _burn(password, hasher)
        return Verdict(False)
    if stored.startswith(BCRYPT_PREFIXES):
        try:
            # The Node.js bcrypt libraries hashed only the first 72 bytes; so does the check.
            valid = bcrypt.checkpw(password.encode()[:72], stored.encode())
        except ValueError:
            return Verdict(False)
        return Verdict(valid, hasher.hash(password) if valid else None)
    if legacy.is_legacy(stored):
        valid = legacy.verify(stored, password)
        return Verdict(valid, hasher.hash(password) if valid else None)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return Verdict(False)
    return Verdict(True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None)


def _burn(password: str, hasher: PasswordHasher) -> None:
    try:
        hasher.verify(dummy_hash(hasher), password)
    except VerificationError:
        pass


def _verify_evenly(stored: str | None, password: str, hasher: PasswordHasher) -> Verdict:
    """`_verify`, taking as long for a legacy hash as for an argon2id one.

    A legacy hash (bcrypt, or any other imported scheme) costs what its parameters say: a
    bcrypt hash of cost 4 to 10 answered a wrong password in 4-63 ms, against about 120 ms
    for an argon2id account or an unknown email, and so showed which accounts were
    imported. The dummy argon2id verification runs alongside, in a second thread (both
    libraries release the GIL while they hash), and the answer waits for both: the time is
    that of the slower of the two, the argon2id reference for every legacy hash cheaper
    than it, under the same load as a real argon2id verification. Run one after the other,
    the legacy cost would still show on top of the reference; padded with a sleep, the
    reference would have to be guessed and would not slow down with the machine. Wrapping
    whatever `_verify` does keeps it true for each scheme it learns.
    """
    if stored is None or stored.startswith("$argon2"):
        return _verify(stored, password, hasher)
    burner = threading.Thread(target=_burn, args=(password, hasher), daemon=True)
    burner.start()
    try:
        return _verify(stored, password, hasher)
    finally:
        burner.join()


async def verify_password(
    stored: str | None, password: str, hasher: PasswordHasher = STANDARD
) -> Verdict:
    """Check `password` against `stored` (None: unknown account or no usable password).
    `hasher` makes the replacement hash and the unknown email's dummy one."""
    return await asyncio.to_thread(_verify_evenly, stored, password, hasher)


async def hash_password(password: str, hasher: PasswordHasher = STANDARD) -> str:
    return await asyncio.to_thread(hasher.hash, password)


@dataclass(frozen=True)
class Claims:
    user_id: UUID
    generation: int
    jti: UUID
    expires_at: int
    # The session (refresh token family) the token belongs to; None for tokens minted
    # without one (before sessions existed), which the user's generation governs.
    session_id: UUID | None = None


def issue_token(
    secret: str, *, user_id: UUID, generation: int, ttl: int, session_id: UUID | None = None
) -> tuple[str, Claims]:
    now = int(time.time())
    claims = Claims(
        user_id=user_id,
        generation=generation,
        jti=uuid4(),
        expires_at=now + ttl,
        session_id=session_id,
    )
    payload: dict[str, object] = {
        "sub": str(user_id),
        "gen": generation,
        "jti": str(claims.jti),
        "iat": now,
        "exp": claims.expires_at,
    }
    if session_id is not None:
        payload["sid"] = str(session_id)
    token = jwt.encode(payload, secret, algorithm=ALGORITHM)
    return token, claims


def new_refresh_token() -> tuple[str, bytes]:
    """A refresh token (256 random bits) and the digest stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_digest(token)


def refresh_token_digest(token: str) -> bytes:
    # A fast hash is enough: the token is random, not a password a dictionary could guess.
    return hashlib.sha256(token.encode()).digest()


def read_token(keys: Sequence[str], token: str) -> Claims | None:
    """The token's claims, or None when it is forged, expired or malformed. `keys`: the
    signing secret first, then the previous ones still accepted after a rotation."""
    for key in keys:
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],  # pinned: never trust the token's own "alg"
                options={"require": ["sub", "gen", "jti", "iat", "exp"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError:
            return None
        return _claims(payload)
    return None


def _claims(payload: dict[str, Any]) -> Claims | None:
    try:
        return Claims(
            user_id=UUID(payload["sub"]),
            generation=int(payload["gen"]),
            jti=UUID(payload["jti"]),
            expires_at=int(payload["exp"]),
            session_id=UUID(payload["sid"]) if "sid" in payload else None,
        )
    except (KeyError, ValueError, TypeError):
        return None
