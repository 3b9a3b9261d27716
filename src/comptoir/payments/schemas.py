"""The payment provider's event, as it posts it."""

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

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


class Receipt(BaseModel):
    event_id: str
    result: Annotated[str, Field(description="What the event did; see the payments docs.")]
    duplicate: bool
