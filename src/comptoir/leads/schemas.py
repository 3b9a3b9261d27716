"""The leads surface."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints


class LeadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailStr = Field(max_length=320)
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class Lead(BaseModel):
    id: UUID
    name: str
    email: str
    message: str
    created_at: datetime


class LeadPage(BaseModel):
    items: list[Lead]
    next_cursor: str | None
