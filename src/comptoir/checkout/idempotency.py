"""Idempotency keys of checkout: the same key again returns the same order, once.

The key is claimed inside `place_order()`, in the checkout's own transaction: a concurrent
duplicate blocks on the key's primary key until the first attempt ends, then replays its
stored response (an order was placed) or claims the key itself (the first was refused and
left nothing behind). Only successful checkouts keep their key, for 24 hours (the default of
idempotency_keys.expires_at). What makes two requests "the same" is this fingerprint.
"""

import hashlib
import json
from typing import Any


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()
