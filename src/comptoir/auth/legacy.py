"""Password hashes that imported accounts brought from their old shop, verified at login.

Comptoir's own hashes are argon2id; bcrypt and argon2 strings are verified in
`security.py`. Everything else an import keeps is verified here, and the account moves to
argon2id at its first successful login (`security._verify`):

- PHC strings as passlib wrote them: `$scrypt$ln=..,r=..,p=..$salt$hash`,
  `$pbkdf2-sha256$rounds$salt$hash` (salt and hash in passlib's adapted base64);
- Django `pbkdf2_sha256$iterations$salt$base64`, Werkzeug `pbkdf2:sha256:N$salt$hex` and
  `scrypt:N:r:p$salt$hex`;
- `$comptoir$<base64url JSON>`, written by the import for what carries no scheme of its
  own: Node's `crypto.scryptSync` / `crypto.pbkdf2Sync` hex output with its salt (`kdf`),
  tried with each candidate parameter set the import or the mapping file gave; and fast
  unsalted digests (`wrapped`), kept only inside an argon2id hash of the digest so that
  the weak legacy hash is never stored verifiable on its own.

Every comparison is constant-time (hmac.compare_digest).
"""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PREFIX = "$comptoir$"
DIGESTS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}  # name → hex length
_hasher = PasswordHasher()


def encode(document: dict[str, Any]) -> str:
    """A legacy hash the import describes itself, as stored in users.password_hash."""
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(stored: str) -> dict[str, Any] | None:
    if not stored.startswith(PREFIX):
        return None
    body = stored[len(PREFIX) :]
    try:
        document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None
    return document if isinstance(document, dict) else None


def is_legacy(stored: str) -> bool:
    return stored.startswith(
        (PREFIX, "$scrypt$", "$pbkdf2", "pbkdf2_sha256$", "pbkdf2_sha1$", "pbkdf2:", "scrypt:")
    )


def verify(stored: str, password: str) -> bool:
    """Whether `password` matches a legacy hash (False for a format it does not know)."""
    secret = password.encode()
    try:
        if stored.startswith(PREFIX):
            return _verify_described(decode(stored) or {}, secret)
        if stored.startswith("$scrypt$"):
            return _verify_passlib_scrypt(stored, secret)
        if stored.startswith("$pbkdf2"):
            return _verify_passlib_pbkdf2(stored, secret)
        if stored.startswith(("pbkdf2_sha256$", "pbkdf2_sha1$")):
            return _verify_django(stored, secret)
        if stored.startswith(("pbkdf2:", "scrypt:")):
            return _verify_werkzeug(stored, secret)
    except (ValueError, TypeError, KeyError, binascii.Error, MemoryError):
        return False
    return False


def kdf(candidate: dict[str, Any], secret: bytes, salt: bytes, length: int) -> bytes:
    """One parameter set of scrypt or pbkdf2 applied to `secret`."""
    if candidate["kdf"] == "scrypt":
        n, r, p = int(candidate["n"]), int(candidate["r"]), int(candidate["p"])
        # hashlib refuses more than maxmem; scrypt needs 128·n·r bytes (and p lanes).
        memory = 128 * n * r * max(p, 1) + (1 << 20)
        return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=length)
    return hashlib.pbkdf2_hmac(
        candidate["digest"], secret, salt, int(candidate["iterations"]), length
    )


def _verify_described(document: dict[str, Any], secret: bytes) -> bool:
    if document.get("s") == "wrapped":
        digest = hashlib.new(document["digest"], secret).hexdigest()
        try:
            return bool(_hasher.verify(document["argon2"], digest))
        except (VerificationError, InvalidHashError):
            return False
    if document.get("s") == "kdf":
        expected = bytes.fromhex(document["hash"])
        salt_text: str = document["salt"]
        for candidate in document["try"]:
            try:
                hexed = candidate.get("salt") == "hex"
                salt = bytes.fromhex(salt_text) if hexed else salt_text.encode()
            except ValueError:  # a salt that is not hex has no "hex" reading
                continue
            if hmac.compare_digest(kdf(candidate, secret, salt, len(expected)), expected):
                return True
    return False


def _ab64(text: str) -> bytes:
    """passlib's adapted base64: '.' for '+', no padding."""
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _verify_passlib_scrypt(stored: str, secret: bytes) -> bool:
    _, _, params, salt, digest = stored.split("$")
    values = dict(item.split("=") for item in params.split(","))
    candidate = {"kdf": "scrypt", "n": 2 ** int(values["ln"]), "r": values["r"], "p": values["p"]}
    expected = _ab64(digest)
    return hmac.compare_digest(kdf(candidate, secret, _ab64(salt), len(expected)), expected)


def _verify_passlib_pbkdf2(stored: str, secret: bytes) -> bool:
    _, scheme, rounds, salt, digest = stored.split("$")
    name = scheme.removeprefix("pbkdf2").lstrip("-") or "sha1"
    expected = _ab64(digest)
    actual = hashlib.pbkdf2_hmac(name, secret, _ab64(salt), int(rounds), len(expected))
    return hmac.compare_digest(actual, expected)


def _verify_django(stored: str, secret: bytes) -> bool:
    scheme, iterations, salt, digest = stored.split("$", 3)
    name = scheme.removeprefix("pbkdf2_")
    expected = base64.b64decode(digest)
    actual = hashlib.pbkdf2_hmac(name, secret, salt.encode(), int(iterations), len(expected))
    return hmac.compare_digest(actual, expected)


def _verify_werkzeug(stored: str, secret: bytes) -> bool:
    method, salt, digest = stored.split("$", 2)
    expected = bytes.fromhex(digest)
    parts = method.split(":")
    if parts[0] == "scrypt":
        n, r, p = (int(x) for x in parts[1:4]) if len(parts) >= 4 else (2**15, 8, 1)
        candidate: dict[str, Any] = {"kdf": "scrypt", "n": n, "r": r, "p": p}
    else:
        iterations = int(parts[2]) if len(parts) > 2 else 260_000
        candidate = {"kdf": "pbkdf2", "digest": parts[1], "iterations": iterations}
    return hmac.compare_digest(kdf(candidate, secret, salt.encode(), len(expected)), expected)
