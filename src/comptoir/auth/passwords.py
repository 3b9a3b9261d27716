"""The password policy, after NIST SP 800-63B (section 3.1.1.2, "Password Verifiers").

- 8 to 256 characters (Unicode code points). NIST asks for at least 8 and for allowing at
  least 64; 256 was already the API's bound, and argon2id hashes any length at one cost.
- Not whitespace only (eight spaces is no secret); spaces inside are fine.
- Not a commonly used password: the list shipped in `common-passwords.txt.gz`, compared
  case-insensitively. It is the 8,354 entries of 8 characters or more (shorter ones are
  refused by length anyway) from Django's `common-passwords.txt.gz` (Django 5.2,
  BSD-3-Clause; 20,000 common passwords compiled by Royce Williams from breach corpora),
  kept in its order, most common first.
- Not context-specific words (NIST names "the name of the service, the username, and
  derivatives thereof"): the account's email, its part before the @, the shop's name
  (COMPTOIR_SHOP_NAME) or "comptoir", whatever the case, alone or with only digits,
  symbols or spaces around them ("comptoir2024!", "jeanne.dupont1987"). A longer phrase
  that contains one of them is accepted: "comptoir-demo", the demo's documented password,
  has a word of its own, and refusing every password that contains a common word would
  be the kind of composition rule NIST advises against.
- No composition rules (no required digit, case or symbol) and no expiry.
"""

import gzip
import re
from functools import cache
from importlib.resources import files

from comptoir.errors import Unprocessable

MIN_LENGTH = 8
MAX_LENGTH = 256
PRODUCT_NAME = "comptoir"
COMMON_PASSWORDS_MIN = 8000  # what the shipped list holds at least (a test checks it)
# What may stand around a context word and still make only a variant of it.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class WeakPassword(Unprocessable):
    """A password the policy refuses; `detail` names the rule."""

    def __init__(self, rule: str, *, field: str = "password") -> None:
        super().__init__(
            f"This password is refused: {rule}",
            errors=[{"loc": ["body", field], "msg": rule, "type": "password_policy"}],
        )
        self.rule = rule


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once, on first use (not at import)."""
    data = (files("comptoir.auth") / "common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().splitlines())


def _core(text: str) -> str:
    return _DECORATION.sub("", text.casefold())


def broken_rule(password: str, *, email: str, shop_name: str) -> str | None:
    """The rule `password` breaks, in words for the person choosing it; None if none."""
    if len(password) < MIN_LENGTH:
        return f"it needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"it may have at most {MAX_LENGTH} characters."
    if not password.strip():
        return "it may not be only spaces or other whitespace."
    folded = password.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        return "it is one of the most common passwords, the first an attacker tries."
    email = email.strip()
    core = _core(password)
    if core and core in {_core(email), _core(email.rsplit("@", 1)[0])}:
        return "it may not be your email address, or its part before the @."
    if core and core in {_core(shop_name), PRODUCT_NAME}:
        return "it may not be the shop's name."
    return None


def check_password(password: str, *, email: str, shop_name: str, field: str = "password") -> None:
    """Raise WeakPassword (a 422 problem naming the rule) unless the policy accepts it."""
    rule = broken_rule(password, email=email, shop_name=shop_name)
    if rule is not None:
        raise WeakPassword(rule, field=field)
