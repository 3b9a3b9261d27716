"""The neutral webhook's event as a provider posts it, and an order's payment as the order
document shows it (built by PostgreSQL: db/functions/document_payment.sql)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from comptoir.catalog.schemas import Money
from comptoir.payments.provider import ProviderEvent

Id = Annotated[str, Field(min_length=1, max_length=255)]


class PaymentEvent(BaseModel):
    event_id: Id
    payment_intent_id: Id
    order_id: UUID
    outcome: Literal["succeeded", "failed"]
    # What the provider took: a success pays the order only when both match the order's
    # total and the shop's currency.
    amount: Annotated[
        Decimal,
        Field(
            ge=0,
            max_digits=12,
            decimal_places=2,
            description='Amount paid, e.g. "28.80" (string or number).',
        ),
    ]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")]

    def as_provider_event(self) -> ProviderEvent:
        return ProviderEvent(
            event_id=self.event_id, provider="webhook", type=f"payment.{self.outcome}",
            outcome=self.outcome, intent_id=self.payment_intent_id, order_id=self.order_id,
            amount=self.amount, currency=self.currency,
        )  # fmt: skip


class Receipt(BaseModel):
    event_id: str
    result: Annotated[str, Field(description="What the event did; see the payments docs.")]
    duplicate: bool


class PaymentRefund(BaseModel):
    status: Literal["pending", "succeeded", "failed"]
    amount: Money


class PaymentEventSeen(BaseModel):
    type: Annotated[
        str, Field(description="The provider's event type, e.g. payment_intent.succeeded.")
    ]
    received_at: datetime


class PaymentEventRecord(PaymentEventSeen):
    event_id: str
    provider: str
    result: Annotated[str, Field(description="What the event did (docs/payments.md).")]
    payment_intent_id: str
    amount: Money | None
    currency: str | None


PaymentState = Literal["none", "requires_payment", "succeeded", "failed", "canceled", "mismatch"]


class Payment(BaseModel):
    """The order's payment, as its customer sees it."""

    provider: Literal["stripe", "webhook"] | None
    status: PaymentState
    refund: PaymentRefund | None
    client_secret: Annotated[
        str | None,
        Field(description="For Stripe.js (`stripe.confirmPayment`), while the order is payable."),
    ]
    events: list[PaymentEventSeen]


class AdminPayment(Payment):
    """Everything, for the back office."""

    payment_intent_id: str | None
    refund_id: str | None
    amount: Money | None
    currency: str | None
    events: list[PaymentEventRecord]  # type: ignore[assignment]
