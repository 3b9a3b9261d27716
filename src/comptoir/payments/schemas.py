"""The payment provider's event, as it posts it."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

Id = Annotated[str, Field(min_length=1, max_length=255)]


class PaymentEvent(BaseModel):
    event_id: Id
    payment_intent_id: Id
    order_id: UUID
    outcome: Literal["succeeded", "failed"]


class Receipt(BaseModel):
    event_id: str
    result: Annotated[str, Field(description="What the event did; see the payments docs.")]
    duplicate: bool
