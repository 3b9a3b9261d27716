"""The dashboard's figures. The document is built by PostgreSQL; these models describe it."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from comptoir.catalog.schemas import Money


class Figures(BaseModel):
    orders: int = Field(description="Orders placed, whatever their status now.")
    revenue: Money = Field(description="Total of those of them paid or shipped.")


class Day(Figures):
    day: date


class LowStock(BaseModel):
    id: UUID
    name: str
    stock: int


class Dashboard(BaseModel):
    currency: str
    first_day: date
    last_day: date
    today: Figures
    month: Figures = Field(description="Since the first day of the month (UTC).")
    by_status: dict[str, int] = Field(description="Orders placed in the chart's days, per status.")
    days: list[Day] = Field(description="Every day of the chart, oldest first, zeros included.")
    low_stock: list[LowStock] = Field(description="Products on sale with the least stock left.")
