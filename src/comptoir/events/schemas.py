"""The events surface."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
)

BATCH_MAX = 1000
# Of the payload's JSON text as PostgreSQL stores it (jsonb normalizes spacing).
PAYLOAD_MAX_BYTES = 4096

# These models document the body (OpenAPI); the insert statement enforces the same rules
# (events/queries.py), so that a batch is parsed once, by PostgreSQL, not by Python too.
EventType = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    Field(description="What happened, e.g. `page_view` (1-100 characters, not blank)."),
]
Payload = Annotated[
    dict[str, Any],
    Field(description=f"A JSON object, at most {PAYLOAD_MAX_BYTES} bytes as stored."),
]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: EventType
    payload: Payload = Field(default_factory=dict)


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[EventIn], Field(min_length=1, max_length=BATCH_MAX)]


def _shape(body: Any) -> str:
    return "batch" if isinstance(body, dict) and "events" in body else "one"


# One event, or `{"events": [...]}`: told apart by the `events` key, so that an error in a
# batch reads `events.<index>.<field>` and not the union's two sets of complaints.
EventsBody = Annotated[
    Annotated[EventIn, Tag("one")] | Annotated[EventBatch, Tag("batch")],
    Discriminator(_shape),
]
EVENTS_BODY: TypeAdapter[EventIn | EventBatch] = TypeAdapter(EventsBody)


class Accepted(BaseModel):
    accepted: int = Field(description="How many events were recorded.")


class Event(BaseModel):
    id: UUID
    event_type: str
    user_id: UUID | None
    payload: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None


class DayCount(BaseModel):
    day: date
    event_type: str
    count: int


class Summary(BaseModel):
    from_: date = Field(alias="from")
    to: date
    items: list[DayCount] = Field(description="Per UTC day and event type, days in order.")
