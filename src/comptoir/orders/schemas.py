"""The orders surface. Documents are built by PostgreSQL; these models describe them."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from comptoir.addresses.schemas import Address
from comptoir.catalog.schemas import Money
from comptoir.orders.states import Status
from comptoir.payments.schemas import AdminPayment, Payment


class OrderLine(BaseModel):
    product_id: UUID
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class Order(BaseModel):
    id: UUID
    status: Status
    total: Money
    currency: str
    payment_intent_id: str | None
    created_at: datetime
    updated_at: datetime
    # As they were at checkout; null when none was given (or the customer erased their data).
    shipping_address: Address | None = None
    billing_address: Address | None = None
    items: list[OrderLine]
    payment: Payment


class Customer(BaseModel):
    id: UUID
    email: str
    name: str | None


class AdminOrder(Order):
    customer: Customer
    payment: AdminPayment


class AdminOrderPage(BaseModel):
    items: list[AdminOrder]
    next_cursor: str | None


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None


class StatusMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
