"""What the back office's Operations page reads: `comptoir db stats` as JSON."""

from typing import Any

from pydantic import BaseModel, Field


class StatsSection(BaseModel):
    title: str
    rows: list[dict[str, Any]] = Field(description="One object per row, the columns as keys.")
    hint: str | None = Field(description="Why the section is empty, and how to fix it.")


class DbStats(BaseModel):
    sections: list[StatsSection]
