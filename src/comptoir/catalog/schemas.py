"""The catalog surface. Responses are built by PostgreSQL; these models document them."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Money = Annotated[
    str, Field(pattern=r"^\d{1,10}\.\d{2}$", examples=["19.90"], description="Decimal string.")
]
PriceIn = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Stock = Annotated[int, Field(ge=0, le=2_000_000_000)]


class Product(BaseModel):
    id: UUID
    name: str
    description: str
    price: Money
    currency: str
    stock: int
    active: bool
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description="What the shop keeps beyond the columns (brand, categories, images, ...).",
    )
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None


class NewProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    price: PriceIn = Field(description="Decimal string or number, two places at most.")
    stock: Stock = 0
    active: bool = True


class ProductChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    price: PriceIn | None = None
    stock: Stock | None = None
    active: bool | None = None
