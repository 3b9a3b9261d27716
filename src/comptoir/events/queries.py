"""SQL of events: the batch insert, the admin listing and the daily summary."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from comptoir.pagination import Arguments, newest_first

# The request body goes to PostgreSQL as it came, and one statement checks it and inserts
# it: all events or none, one round trip, no Python object per event. Validating 1,000
# events with pydantic cost more CPU than PostgreSQL's insert (bench/README.md); here
# PostgreSQL parses the body once, and the rules are those of the schemas, which document
# them (events/schemas.py). The first problem found is returned: the whole body's (`idx`
# NULL) or an event's. The insert's WHERE is an init plan, evaluated once.
INSERT_EVENTS = r"""
WITH shape AS (
    SELECT b, jsonb_typeof(b) = 'object' AND b ? 'events' AS batch
    FROM (SELECT $1::jsonb AS b) AS body
),
whole AS (
    SELECT CASE
        WHEN jsonb_typeof(b) <> 'object' THEN 'the body must be a JSON object'
        WHEN batch AND (SELECT count(*) FROM jsonb_object_keys(b)) > 1
            THEN 'a batch holds "events" only'
        WHEN batch AND jsonb_typeof(b -> 'events') <> 'array' THEN '"events" must be an array'
        WHEN batch AND jsonb_array_length(b -> 'events') NOT BETWEEN 1 AND $4
            THEN format('"events" holds 1 to %s events', $4)
    END AS problem
    FROM shape
),
input AS (
    SELECT e.event, e.n - 1 AS idx
    FROM shape, whole,
         jsonb_array_elements(CASE WHEN batch THEN b -> 'events' ELSE jsonb_build_array(b) END)
             WITH ORDINALITY AS e (event, n)
    WHERE whole.problem IS NULL
),
checked AS (
    SELECT idx, CASE
        WHEN jsonb_typeof(event) <> 'object' THEN ARRAY['', 'must be a JSON object']
        WHEN NOT event ? 'event_type' THEN ARRAY['event_type', 'missing']
        WHEN jsonb_typeof(event -> 'event_type') <> 'string'
            THEN ARRAY['event_type', 'must be a string']
        WHEN length(event ->> 'event_type') > 100
            THEN ARRAY['event_type', 'longer than 100 characters']
        WHEN event ->> 'event_type' !~ '\S' THEN ARRAY['event_type', 'blank']
        WHEN jsonb_typeof(coalesce(event -> 'payload', '{}')) <> 'object'
            THEN ARRAY['payload', 'must be a JSON object']
        WHEN octet_length(coalesce(event -> 'payload', '{}')::text) > $3
            THEN ARRAY['payload', format('larger than %s bytes', $3)]
        ELSE (SELECT ARRAY[min(k), 'unknown field'] FROM jsonb_object_keys(event) AS k
              WHERE k NOT IN ('event_type', 'payload') HAVING count(*) > 0)
    END AS problem
    FROM input
),
bad AS (
    SELECT NULL::bigint AS idx, ''::text AS field, problem AS msg FROM whole
    WHERE problem IS NOT NULL
    UNION ALL
    (SELECT idx, problem[1], problem[2] FROM checked WHERE problem IS NOT NULL
     ORDER BY idx LIMIT 1)
    LIMIT 1
),
stored AS (
    INSERT INTO analytics_events (event_type, user_id, payload)
    SELECT event ->> 'event_type', $2::uuid, coalesce(event -> 'payload', '{}')
    FROM input
    WHERE NOT EXISTS (SELECT FROM bad)
    RETURNING 1
)
SELECT (SELECT count(*) FROM stored) AS stored,
       (SELECT batch FROM shape) AS batch,
       EXISTS (SELECT FROM bad) AS refused,
       (SELECT idx FROM bad) AS idx,
       (SELECT field FROM bad) AS field,
       (SELECT msg FROM bad) AS msg
"""


@dataclass(frozen=True)
class Refusal:
    """What is wrong: with the body as a whole (`index` None), or with the event `index`
    (and its `field`; "" for the event itself)."""

    batch: bool
    index: int | None
    field: str
    msg: str


@dataclass(frozen=True)
class Stored:
    count: int
    refusal: Refusal | None


async def insert_events(
    conn: asyncpg.Connection,
    *,
    body: str,
    user_id: UUID | None,
    payload_max_bytes: int,
    batch_max: int,
) -> Stored:
    row = await conn.fetchrow(INSERT_EVENTS, body, user_id, payload_max_bytes, batch_max)
    assert row is not None
    refusal = (
        Refusal(bool(row["batch"]), row["idx"], row["field"], row["msg"])
        if row["refused"]
        else None
    )
    return Stored(count=row["stored"], refusal=refusal)


# Newest first, keyset on (created_at, id). The WHERE holds only the filters asked for, so
# that each combination gets its own plan and its own index: (event_type, created_at DESC)
# for a type, the partial (user_id, created_at DESC) for a user, the GIN index for payload
# containment; `created_at` bounds prune the partitions. Without any of those filters the
# page orders by `timezone('UTC', created_at)`, the same order, which only the
# analytics_events_recent_idx index serves (revision 0005 says why).
RECENT = "timezone('UTC', e.created_at)"
EVENT_JSON = """json_build_object(
    'id', e.id, 'event_type', e.event_type, 'user_id', e.user_id, 'payload', e.payload,
    'created_at', e.created_at)"""


@dataclass(frozen=True)
class EventFilter:
    event_type: str | None = None
    user_id: UUID | None = None
    payload: dict[str, Any] | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    after: tuple[datetime, UUID] | None = None  # the cursor: the last row of the last page

    @property
    def order(self) -> str | None:
        """The expression the page's index sorts by; None for created_at itself."""
        narrowed = (self.event_type, self.user_id, self.payload) != (None, None, None)
        return None if narrowed else RECENT

    def where(self, args: Arguments) -> list[str]:
        clauses = []
        if self.event_type is not None:
            clauses.append(f"e.event_type = {args.add(self.event_type, 'text')}")
        if self.user_id is not None:
            clauses.append(f"e.user_id = {args.add(self.user_id, 'uuid')}")
        if self.payload is not None:
            clauses.append(f"e.payload @> {args.add(json.dumps(self.payload), 'jsonb')}")
        if self.since is not None:
            clauses.append(f"e.created_at >= {args.add(self.since, 'timestamptz')}")
        if self.until is not None:
            until = args.add(self.until, "timestamptz")
            clauses.append(f"e.created_at < {until}")
            if self.order is not None:
                # A bound on the ordering expression too: where the index scan starts.
                clauses.append(f"{self.order} < timezone('UTC', {until})")
        return clauses


def page_query(filters: EventFilter, limit: int) -> tuple[str, list[object]]:
    args = Arguments()
    sql = newest_first(
        args,
        source="analytics_events AS e",
        alias="e",
        where=filters.where(args),
        item=EVENT_JSON,
        after=filters.after,
        limit=limit,
        order=filters.order,
    )
    return sql, args.values


async def list_events_json(conn: asyncpg.Connection, *, filters: EventFilter, limit: int) -> str:
    query, args = page_query(filters, limit)
    page: str = await conn.fetchval(query, *args)
    return page


# The summary: counts per UTC day and event type, read from the daily rollup,
# `analytics_events_daily`, which statement triggers on analytics_events keep current in the
# writer's transaction (db/functions/analytics_events_daily_*.sql): the summary of any period
# reads at most days x types rows, whatever the number of events (docs/events.md).
SUMMARY = """
SELECT json_build_object(
    'from', $1::date,
    'to', $2::date,
    'items', coalesce(
        (SELECT json_agg(json_build_object('day', day, 'event_type', event_type, 'count', count)
                         ORDER BY day, event_type)
         FROM analytics_events_daily WHERE day BETWEEN $1 AND $2),
        '[]'::json))::text
"""


async def fetch_summary_json(conn: asyncpg.Connection, *, first_day: date, last_day: date) -> str:
    document: str = await conn.fetchval(SUMMARY, first_day, last_day)
    return document
