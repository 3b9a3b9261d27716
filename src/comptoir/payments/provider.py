"""The provider seam: what Comptoir asks of a payment provider, and what it hears back.

A provider (Stripe today; Mollie, PayPal or Adyen tomorrow) creates a payment for an order,
reads it, cancels it, refunds it, and turns a webhook delivery into Comptoir's own
`ProviderEvent`. Checkout, orders and the reconciliation speak only these types; a second
provider is a second class with these methods, and nothing else changes.

Every call that creates something at the provider is idempotent per order (the provider's
idempotency key is derived from the order id): retrying after a timeout, a 500 or a crash
finds the same payment or refund, never a second one.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol
from uuid import UUID

# What Comptoir knows of a payment; the order JSON's `payment.status` (with "none": no
# payment yet).
PaymentStatus = Literal["requires_payment", "succeeded", "failed", "canceled", "mismatch"]
RefundStatus = Literal["pending", "succeeded", "failed"]
Outcome = Literal[
    "succeeded", "failed", "canceled", "refund_pending", "refund_succeeded", "refund_failed"
]


@dataclass(frozen=True)
class Intent:
    """A payment at the provider, as it stands."""

    id: str
    status: Literal["requires_payment", "succeeded", "failed", "canceled"]
    client_secret: str | None
    amount: Decimal  # asked
    amount_received: Decimal
    currency: str  # ISO 4217, upper case
    order_id: UUID | None


@dataclass(frozen=True)
class Refund:
    id: str
    status: RefundStatus
    amount: Decimal


@dataclass(frozen=True)
class ProviderEvent:
    """A provider's event in Comptoir's terms. `amount`/`currency`: what was taken (a
    success) or given back (a refund)."""

    event_id: str
    provider: str
    type: str  # the provider's own name for it, kept for support
    outcome: Outcome
    intent_id: str
    order_id: UUID | None
    amount: Decimal | None
    currency: str | None
    refund_id: str | None = None


@dataclass(frozen=True)
class Ignored:
    """A well-signed event of a type Comptoir does not act on."""

    event_id: str
    type: str


class BadSignature(Exception):
    """The delivery is not the provider's, or it is stale."""


class ProviderDown(Exception):
    """No usable answer: a timeout, a connection refused, a 5xx. The call may or may not
    have taken effect; retrying it (same idempotency key) is safe."""


class ProviderRefused(Exception):
    """The provider answered no (a 4xx): the payment is not in a state that allows it."""


class Provider(Protocol):
    name: str

    async def create_payment(self, *, order_id: UUID, amount: Decimal, currency: str) -> Intent: ...

    async def fetch_payment(self, intent_id: str) -> Intent: ...

    async def cancel_payment(self, intent_id: str, *, order_id: UUID) -> Intent: ...

    async def refund(
        self, *, order_id: UUID, intent_id: str, amount: Decimal, currency: str
    ) -> Refund: ...

    def parse_webhook(self, body: bytes, signature: str | None) -> ProviderEvent | Ignored: ...

    async def close(self) -> None: ...
