"""The webhook signature: `Comptoir-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` of
"<t>.<raw body>" under the webhook secret. The timestamp is signed too, so an old delivery
cannot be replayed with a fresh one."""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str | None, body: bytes, *, now: float | None = None) -> bool:
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    # Constant-time: a mismatch takes as long wherever it is. Several v1 (key rotation).
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))
