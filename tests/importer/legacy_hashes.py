"""Password hashes as the old shops' code wrote them, computed here for known passwords.

Each function stands for one scheme of the contract's "Passwords" list, written the way
the library or framework named writes it (low costs: the tests verify, they do not
benchmark).
"""

import base64
import hashlib
import os

import bcrypt
from argon2 import PasswordHasher

SALT_HEX = "99e3287cf6828328dfbde329e5eb78b0"  # Node: crypto.randomBytes(16).toString("hex")


def _ab64(raw: bytes) -> str:
    """passlib's adapted base64."""
    return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")


def bcrypt_hash(password: str, prefix: str = "$2b$") -> str:
    """bcryptjs / node.bcrypt.js; PHP wrote $2y$, old Node $2a$."""
    stored = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return prefix + stored[4:]


def argon2id(password: str) -> str:
    """node-argon2 / argon2-cffi."""
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)


def node_scrypt_pair(password: str) -> str:
    """`${salt}:${crypto.scryptSync(password, salt, 64).toString("hex")}`: the salt's hex text
    is the salt (Node's habit), default cost N=16384, r=8, p=1."""
    digest = hashlib.scrypt(password.encode(), salt=SALT_HEX.encode(), n=16384, r=8, p=1, dklen=64)
    return f"{SALT_HEX}:{digest.hex()}"


def node_pbkdf2_sha512(password: str, iterations: int = 10_000) -> tuple[str, str]:
    """`crypto.pbkdf2Sync(password, salt, iterations, 64, "sha512").toString("hex")` with the
    salt in its own field: 128 hex characters. Returns (hash, salt)."""
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), SALT_HEX.encode(), iterations, 64)
    return digest.hex(), SALT_HEX


def phc_scrypt(password: str) -> str:
    """passlib's scrypt: `$scrypt$ln=14,r=8,p=1$salt$hash`."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"$scrypt$ln=14,r=8,p=1${_ab64(salt)}${_ab64(digest)}"


def phc_pbkdf2_sha256(password: str) -> str:
    """passlib's pbkdf2_sha256: `$pbkdf2-sha256$29000$salt$hash`."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 29000, 32)
    return f"$pbkdf2-sha256$29000${_ab64(salt)}${_ab64(digest)}"


def django_pbkdf2(password: str) -> str:
    """Django's PBKDF2PasswordHasher: `pbkdf2_sha256$iterations$salt$base64`."""
    salt = "Kf0zFq1Wm3nR"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000)
    return f"pbkdf2_sha256$10000${salt}${base64.b64encode(digest).decode()}"


def werkzeug_pbkdf2(password: str) -> str:
    """Werkzeug's generate_password_hash(method="pbkdf2"): `pbkdf2:sha256:N$salt$hex`."""
    salt = "q8Zt1Lw0aP4xYb9C"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20_000)
    return f"pbkdf2:sha256:20000${salt}${digest.hex()}"


def werkzeug_scrypt(password: str) -> str:
    """Werkzeug 3's default: `scrypt:N:r:p$salt$hex` (64 bytes)."""
    salt = "Vb3mT0yQe7LzR2wK"
    n, r, p = 2**14, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p,
                            maxmem=132 * n * r * p, dklen=64)  # fmt: skip
    return f"scrypt:{n}:{r}:{p}${salt}${digest.hex()}"


def bare_sha256(password: str) -> str:
    """An unsalted SHA-256 hex digest (`crypto.createHash("sha256")`): weak, wrapped."""
    return hashlib.sha256(password.encode()).hexdigest()


def bare_md5(password: str) -> str:
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
