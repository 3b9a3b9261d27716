"""Recording events (anyone), reading them and their summary (admins)."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from limits import parse
from pydantic import AwareDatetime

from comptoir.auth.deps import OptionalUser, StaffDb, StaffReadDb
from comptoir.db.door import PUBLIC, customer
from comptoir.deps import ClientAddress, DoorsDep, RateLimitsDep, SettingsDep, limited
from comptoir.errors import Responses, Unprocessable
from comptoir.events import queries
from comptoir.events.schemas import (
    BATCH_MAX,
    EVENTS_BODY,
    PAYLOAD_MAX_BYTES,
    Accepted,
    EventPage,
    Summary,
)
from comptoir.pagination import Cursor, Limit, decode_time_id
from comptoir.periods import period
from comptoir.responses import raw_json

router = APIRouter(tags=["events"])

events_limit = limited("events", lambda settings: settings.events_rate_limit)
# What an event costs on disk besides its bytes in the body: the row (header, ids, time),
# its index entries, and a row of the daily counts when its type is new that day; measured
# at 170 bytes for a tiny event and up to 900 for one of a new 100-character type
# (docs/events.md, "Disk growth"). Counted so that a flood of tiny events is bounded too:
# with it, what is stored stayed under twice what is counted for every shape tried.
ROW_BYTES = 400

ADMIN: Responses = {401: {"description": "No token"}, 403: {"description": "Not an admin"}}
SUMMARY_MAX_DAYS = 366
FIRST_DAY, LAST_DAY = date.min + timedelta(days=1), date.max - timedelta(days=1)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with its `$defs` references replaced by what they name."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


_BODY_SCHEMA = EVENTS_BODY.json_schema()
# The body is read by the route itself (see record_events); this documents it.
BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline(_BODY_SCHEMA, _BODY_SCHEMA.get("$defs", {}))}
        },
    }
}


def _refused(refusal: queries.Refusal) -> Unprocessable:
    if refusal.index is None:
        return Unprocessable(
            f"The request is not valid: {refusal.msg}; no event was recorded.",
            errors=[{"loc": ["body"], "msg": refusal.msg, "type": "value_error"}],
        )
    where = ["events", refusal.index] if refusal.batch else []
    what = f"Event {refusal.index} of the batch" if refusal.batch else "The event"
    field = f"{refusal.field}: " if refusal.field else ""
    return Unprocessable(
        f"{what} is not valid ({field}{refusal.msg}); no event was recorded.",
        errors=[
            {
                "loc": ["body", *where, *filter(None, [refusal.field])],
                "msg": refusal.msg,
                "type": "value_error",
            }
        ],
    )


@router.post(
    "/v1/events",
    status_code=202,
    dependencies=[Depends(events_limit)],
    openapi_extra=BODY_DOC,
    responses={
        422: {"description": "An event is not valid (`detail` names it); none was recorded"},
        429: {"description": "Rate limited"},
    },
)
async def record_events(
    request: Request,
    address: ClientAddress,
    user: OptionalUser,
    doors: DoorsDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
) -> Accepted:
    """Record one event (`{"event_type", "payload"}`) or a batch (`{"events": [...]}`, up to
    1,000), all or none. The user is the token's; without a token, the events have none."""
    # Bytes, per client address and from all clients together (requests are counted by
    # `events_limit`): with requests alone, one address could store gigabytes a minute.
    budgets = [
        (parse(settings.events_bytes_rate_limit), ("events-bytes", address)),
        (parse(settings.events_bytes_daily_limit), ("events-bytes-all",)),
    ]
    for item, identifiers in budgets:
        await limits.check_volume(item, *identifiers, what="event bytes")
    raw = await request.body()
    try:
        body = raw.decode()
        # The token's user when there is one (their events), nobody's otherwise.
        db = doors.to(customer(user.id, user.role) if user else PUBLIC)
        stored = await db.one(
            queries.insert_events,
            body=body,
            user_id=user.id if user else None,
            payload_max_bytes=PAYLOAD_MAX_BYTES,
            batch_max=BATCH_MAX,
        )
    except (UnicodeDecodeError, asyncpg.DataError):
        # Not JSON, or JSON that jsonb does not hold (a NUL character, a number beyond
        # numeric's range); PostgreSQL parses the body.
        raise Unprocessable(
            "The body is not JSON that can be stored (malformed, not UTF-8, a NUL character,"
            " a number out of range); no event was recorded.",
            errors=[{"loc": ["body"], "msg": "invalid JSON", "type": "json_invalid"}],
        ) from None
    except asyncpg.ProgramLimitExceededError:
        # JSON nested deeper than PostgreSQL's parser recurses ("stack depth limit
        # exceeded"): the body is at fault, so a 422 and the request's one log line, not a
        # logged traceback per request.
        raise Unprocessable(
            "The body is nested too deeply (or too large) to be stored; no event was recorded.",
            errors=[{"loc": ["body"], "msg": "nested too deeply", "type": "json_invalid"}],
        ) from None
    if stored.refusal is not None:
        raise _refused(stored.refusal)
    for item, identifiers in budgets:
        await limits.spend_volume(item, *identifiers, cost=len(raw) + ROW_BYTES * stored.count)
    return Accepted(accepted=stored.count)


def _containment(payload: str | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise Unprocessable(
            'payload must be a JSON object, such as {"sku": "A1"}.',
            errors=[{"loc": ["query", "payload"], "msg": "not a JSON object", "type": "json"}],
        )
    return document


@router.get("/v1/admin/events", response_model=EventPage, responses=ADMIN)
async def list_events(
    db: StaffDb,
    event_type: Annotated[
        str | None, Query(alias="type", max_length=100, description="Only this type.")
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="From this instant (included).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(alias="to", description="Until this instant (excluded).")
    ] = None,
    user_id: Annotated[UUID | None, Query(description="Only this user's events.")] = None,
    payload: Annotated[
        str | None,
        Query(
            max_length=2000,
            description='Only events whose payload contains this JSON object: {"sku":"A1"}.',
        ),
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """Events, newest first; filters combine. A period reads only its months' partitions."""
    since, until = period(since, until)
    filters = queries.EventFilter(
        event_type=event_type,
        user_id=user_id,
        payload=_containment(payload),
        since=since,
        until=until,
        after=decode_time_id(cursor) if cursor else None,
    )
    return raw_json(await db.one(queries.list_events_json, filters=filters, limit=limit))


@router.get(
    "/v1/admin/events/summary",
    response_model=Summary,
    responses={**ADMIN, 422: {"description": "Period reversed or longer than 366 days"}},
)
async def events_summary(
    db: StaffReadDb,
    first_day: Annotated[
        date | None, Query(alias="from", description="First UTC day (default: 29 days ago).")
    ] = None,
    last_day: Annotated[
        date | None, Query(alias="to", description="Last UTC day, included (default: today).")
    ] = None,
) -> Response:
    """Counts per UTC day and event type over a period (both days included)."""
    last_day = last_day or datetime.now(UTC).date()
    # asyncpg reads date.min and date.max as -infinity and infinity: not days.
    if not FIRST_DAY <= last_day <= LAST_DAY or (first_day and not FIRST_DAY <= first_day):
        raise Unprocessable(
            f"Days run from {FIRST_DAY} to {LAST_DAY}.",
            errors=[{"loc": ["query", "to"], "msg": "out of range", "type": "value_error"}],
        )
    first_day = first_day or max(FIRST_DAY + timedelta(days=29), last_day) - timedelta(days=29)
    if first_day > last_day or (last_day - first_day).days >= SUMMARY_MAX_DAYS:
        raise Unprocessable(
            f"The period must run forward and span at most {SUMMARY_MAX_DAYS} days.",
            errors=[{"loc": ["query", "from"], "msg": "bad period", "type": "value_error"}],
        )
    document = await db.one(queries.fetch_summary_json, first_day=first_day, last_day=last_day)
    return raw_json(document)
