"""The mapping file (`--map FILE`, TOML): what no alias can know about a store.

    currency = "EUR"            # the currency of the store's prices
    price_unit = "units"        # or "cents": every price and total is in cents
    default_status = ""         # the status of orders that have none

    [collections]               # which file or key is which collection ("skip": on purpose)
    "data/golfs.json" = "products"
    "wishlists.json" = "skip"

    [fields.users]              # canonical name = the store's field
    is_admin = "isAdim"

    [statuses]                  # the shop's word = pending, paid, shipped or cancelled
    in_transit = "shipped"

    [passwords]                 # for hashes that do not carry their scheme
    scheme = "pbkdf2-sha512"    # scrypt, pbkdf2-sha512, pbkdf2-sha256, pbkdf2-sha1,
    iterations = 100000         # md5, sha1, sha256, sha512 (unsalted digests), plain
    salt = "text"               # the salt as its hex text (Node's habit) or "hex" bytes

docs/import.md prints a complete example. `inspect` writes a draft with `""` where the
owner must decide: an import refuses a mapping that still has blanks, and names them.
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comptoir.importer.aliases import ALIASES

STATUSES = ("pending", "paid", "shipped", "cancelled")
SCHEMES = ("scrypt", "pbkdf2-sha512", "pbkdf2-sha256", "pbkdf2-sha1", "md5", "sha1", "sha256",
           "sha512", "plain")  # fmt: skip
TARGETS = ("users", "products", "carts", "orders", "leads", "analytics", "skip")


class MappingError(Exception):
    """The mapping file cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class PasswordRules:
    scheme: str | None = None
    iterations: int | None = None
    n: int = 16384
    r: int = 8
    p: int = 1
    salt: str | None = None  # "text" or "hex"; None: both are tried


@dataclass(frozen=True)
class Mapping:
    collections: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    passwords: PasswordRules = PasswordRules()
    cents: bool = False
    currency: str | None = None
    default_status: str | None = None

    def fields_of(self, collection: str) -> dict[str, str]:
        return self.fields.get(collection, {})


def load(path: Path | None) -> Mapping:
    if path is None:
        return Mapping()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MappingError(f"{path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: {error}") from None
    blanks = list(_blanks(document, ""))
    if blanks:
        raise MappingError(f"{path}: fill in the blanks first: {', '.join(blanks)}")
    try:
        return _mapping(document)
    except (MappingError, TypeError, ValueError) as error:
        raise MappingError(f"{path}: {error}") from None


def _blanks(document: dict[str, Any], where: str) -> Any:
    for key, value in document.items():
        if isinstance(value, dict):
            yield from _blanks(value, f"{where}{key}.")
        elif value == "":
            yield f"{where}{key}"


def _mapping(document: dict[str, Any]) -> Mapping:
    known = {"currency", "price_unit", "default_status", "collections", "fields", "statuses",
             "passwords"}  # fmt: skip
    if unknown := set(document) - known:
        raise MappingError(f"unknown entries {sorted(unknown)}; known: {sorted(known)}")
    collections = {str(k): str(v) for k, v in document.get("collections", {}).items()}
    for name, target in collections.items():
        if target not in TARGETS:
            raise MappingError(f'[collections] "{name}" = "{target}": one of {", ".join(TARGETS)}')
    fields = {str(c): {str(k): str(v) for k, v in f.items()}
              for c, f in document.get("fields", {}).items()}  # fmt: skip
    for collection, names in fields.items():
        aliases = ALIASES.get(collection)
        if aliases is None:
            raise MappingError(f"[fields.{collection}]: no such collection")
        if unknown := set(names) - set(aliases) - {"line_product", "line_quantity", "line_price"}:
            raise MappingError(f"[fields.{collection}] {sorted(unknown)}: known {sorted(aliases)}")
    statuses = {str(k).strip().lower(): str(v) for k, v in document.get("statuses", {}).items()}
    for word, status in statuses.items():
        if status not in STATUSES:
            raise MappingError(f'[statuses] "{word}" = "{status}": one of {", ".join(STATUSES)}')
    default = document.get("default_status")
    if default is not None and default not in STATUSES:
        raise MappingError(f'default_status = "{default}": one of {", ".join(STATUSES)}')
    unit = document.get("price_unit", "units")
    if unit not in ("units", "cents"):
        raise MappingError(f'price_unit = "{unit}": "units" or "cents"')
    return Mapping(collections, fields, statuses, _passwords(document.get("passwords", {})),
                   unit == "cents", document.get("currency"), default)  # fmt: skip


def _passwords(section: dict[str, Any]) -> PasswordRules:
    scheme = section.get("scheme")
    if scheme is not None and scheme not in SCHEMES:
        raise MappingError(f'[passwords] scheme = "{scheme}": one of {", ".join(SCHEMES)}')
    salt = section.get("salt")
    if salt is not None and salt not in ("text", "hex"):
        raise MappingError(f'[passwords] salt = "{salt}": "text" or "hex"')
    if scheme and scheme.startswith("pbkdf2") and not section.get("iterations"):
        raise MappingError("[passwords] a pbkdf2 scheme needs its iterations")
    return PasswordRules(scheme, section.get("iterations"), int(section.get("n", 16384)),
                         int(section.get("r", 8)), int(section.get("p", 1)), salt)  # fmt: skip
