"""What a legacy password field holds, and what the account gets from it.

A value that looks like a hash is never hashed as plain text (the hash string would then
log in). Hashes with a scheme of their own (bcrypt, argon2, passlib PHC, Django,
Werkzeug) are kept as they are and verified at login (`auth/legacy.py`). Node's hex
output of scrypt or pbkdf2, with its salt beside it (`salt:hash`) or in its own field,
carries no scheme: it is kept with the parameter sets to try (the mapping file's, else
Node's scrypt defaults and the usual pbkdf2 iterations). A bare hex digest (md5, sha1,
sha256, sha512) is weak: it is kept only wrapped in argon2id (hashed at import time, in the
worker thread). A `$...$` string of an unknown scheme gives an account that cannot log in
until a password is set.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher

from comptoir.auth import legacy
from comptoir.auth.security import BCRYPT_PREFIXES
from comptoir.importer.mapping import PasswordRules

HEX = re.compile(r"^[0-9a-fA-F]+$")
HEX_PAIR = re.compile(r"^([0-9a-fA-F]{8,}):([0-9a-fA-F]{16,})$")
HASH_LIKE = re.compile(r"^(\$[\w-]+\$|[a-z0-9_]+\$\d+\$|[a-z0-9_-]+:[a-z0-9_-]+(:\d+)*\$)")
DIGEST_OF_LENGTH = {length: name for name, length in legacy.DIGESTS.items()}
PBKDF2_ITERATIONS = (1000, 10_000, 100_000)  # what Node examples and tutorials used
KEEP_PREFIXES = (*BCRYPT_PREFIXES, "$argon2", "$scrypt$", "$pbkdf2", "pbkdf2_sha256$",
                 "pbkdf2_sha1$", "pbkdf2:", "scrypt:")  # fmt: skip


@dataclass(frozen=True)
class Password:
    stored: str | None = None  # kept as it is
    job: Callable[[], str] | None = None  # computes the stored hash (argon2id: a worker's job)
    note: str = ""


def read(value: Any, salt: Any, rules: PasswordRules, hasher: PasswordHasher) -> Password:
    if not isinstance(value, str) or not value.strip():
        return Password(note="no usable password: login refused until one is set")
    text = value.strip()
    if rules.scheme == "plain":
        return _plain(value, hasher)
    if text.startswith(("argon2$argon2", "bcrypt$$2")):  # Django's wrappers of both
        text = text.split("$", 1)[1]
    if text.startswith(KEEP_PREFIXES):
        return Password(stored=text, note=f"{_scheme_of(text)} hash kept, verified at login")
    salt_text = salt.strip() if isinstance(salt, str) and salt.strip() else None
    if pair := HEX_PAIR.match(text):
        first, second = pair.groups()
        salt_text, text = (first, second) if len(first) <= len(second) else (second, first)
    if HEX.match(text) and len(text) % 2 == 0 and len(text) >= 32:
        if salt_text is not None:
            return _kdf(text.lower(), salt_text, rules)
        if digest := _digest(text, rules):
            return _wrapped(text.lower(), digest, hasher)
        return Password(note="hex hash of an unknown scheme: login refused until one is set")
    if HASH_LIKE.match(text) or text.startswith("$"):
        return Password(note="password hash of an unknown scheme: login refused until one is set")
    return _plain(value, hasher)


def _plain(value: str, hasher: PasswordHasher) -> Password:
    return Password(job=lambda: hasher.hash(value), note="plain-text password hashed with argon2id")


def _scheme_of(text: str) -> str:
    if text.startswith(BCRYPT_PREFIXES):
        return "bcrypt"
    return re.split(r"[$:_]", text.lstrip("$"), maxsplit=1)[0]


def _digest(text: str, rules: PasswordRules) -> str | None:
    if rules.scheme in legacy.DIGESTS:
        return rules.scheme if legacy.DIGESTS[rules.scheme] == len(text) else None
    return DIGEST_OF_LENGTH.get(len(text))


def _wrapped(hexdigest: str, digest: str, hasher: PasswordHasher) -> Password:
    def job() -> str:
        inner = hasher.hash(hexdigest)
        return legacy.encode({"s": "wrapped", "digest": digest, "argon2": inner})

    return Password(job=job, note=f"unsalted {digest} digest kept wrapped in argon2id")


def _kdf(hexhash: str, salt: str, rules: PasswordRules) -> Password:
    document = {"s": "kdf", "salt": salt, "hash": hexhash, "try": candidates(rules, len(hexhash))}
    note = (
        f"hex {rules.scheme} hash with salt kept"
        if rules.scheme
        else ("hex hash with salt kept: scrypt or pbkdf2 tried at login (name it in [passwords])")
    )
    return Password(stored=legacy.encode(document), note=note)


def candidates(rules: PasswordRules, hex_length: int) -> list[dict[str, Any]]:
    """The parameter sets tried at login, the mapping file's alone when it names one."""
    salts = [rules.salt] if rules.salt else ["text", "hex"]
    scrypt = {"kdf": "scrypt", "n": rules.n, "r": rules.r, "p": rules.p}
    if rules.scheme == "scrypt":
        return [{**scrypt, "salt": s} for s in salts]
    if rules.scheme and rules.scheme.startswith("pbkdf2"):
        digest = rules.scheme.removeprefix("pbkdf2-")
        return [{"kdf": "pbkdf2", "digest": digest, "iterations": rules.iterations, "salt": s}
                for s in salts]  # fmt: skip
    digest = {128: "sha512", 64: "sha256", 40: "sha1"}.get(hex_length, "sha512")
    found = [{**scrypt, "salt": s} for s in salts]
    for iterations in PBKDF2_ITERATIONS:
        found += [{"kdf": "pbkdf2", "digest": digest, "iterations": iterations, "salt": s}
                  for s in salts]  # fmt: skip
    return found
