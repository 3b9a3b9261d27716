"""The cart surface. Responses are built by PostgreSQL; these models document them."""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from comptoir.catalog.schemas import Money

MAX_QUANTITY = 999


class CartLine(BaseModel):
    product_id: UUID
    name: str
    unit_price: Money
    quantity: int
    line_total: Money | None = Field(description="Null when the product is no longer sold.")
    available: bool = Field(description="False when the product was deleted or deactivated.")
    in_stock: bool = Field(description="Whether the stock covers the quantity right now.")


class Cart(BaseModel):
    items: list[CartLine]
    total: Money
    currency: str


class Quantity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
