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
from dataclasses import dataclass
from uuid import UUID, uuid4

import bcrypt
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from comptoir.auth import legacy

ALGORITHM = "HS256"
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")

_hasher = PasswordHasher()


@functools.cache
def dummy_hash() -> str:
    """Verified when the email is unknown, so that an unknown email costs the same as a wrong
    password and response times do not reveal which accounts exist. Made once per process:
    the app makes it as it starts (so no login pays for it), and commands that never check a
    password (import-json, db, ...) never spend an argon2id hash on it."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Verdict:
    valid: bool
    new_hash: str | None = None  # set when the stored hash should be replaced


def _verify(stored: str | None, password: str) -> Verdict:
    if stored is None:
        _burn(password)
        return Verdict(False)
    if stored.startswith(BCRYPT_PREFIXES):
        try:
            # The Node.js bcrypt libraries hashed only the first 72 bytes; so does the check.
            valid = bcrypt.checkpw(password.encode()[:72], stored.encode())
        except ValueError:
            return Verdict(False)
        return Verdict(valid, _hasher.hash(password) if valid else None)
    if legacy.is_legacy(stored):
        valid = legacy.verify(stored, password)
        return Verdict(valid, _hasher.hash(password) if valid else None)
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return Verdict(False)
    return Verdict(True, _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)


def _burn(password: str) -> None:
    try:
        _hasher.verify(dummy_hash(), password)
    except VerificationError:
        pass


def _verify_evenly(stored: str | None, password: str) -> Verdict:
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
        return _verify(stored, password)
    burner = threading.Thread(target=_burn, args=(password,), daemon=True)
    burner.start()
    try:
        return _verify(stored, password)
    finally:
        burner.join()


async def verify_password(stored: str | None, password: str) -> Verdict:
    """Check `password` against `stored` (None: unknown account or no usable password)."""
    return await asyncio.to_thread(_verify_evenly, stored, password)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


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


def read_token(secret: str, token: str) -> Claims | None:
    """The token's claims, or None when it is forged, expired or malformed."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # pinned: never trust the token's own "alg"
            options={"require": ["sub", "gen", "jti", "iat", "exp"]},
        )
        return Claims(
            user_id=UUID(payload["sub"]),
            generation=int(payload["gen"]),
            jti=UUID(payload["jti"]),
            expires_at=int(payload["exp"]),
            session_id=UUID(payload["sid"]) if "sid" in payload else None,
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
