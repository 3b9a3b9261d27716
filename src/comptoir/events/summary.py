"""The summary: counts per UTC day and event type, read from the daily rollup.

`analytics_events_daily` is kept current by statement triggers on analytics_events (revision
0005), in the writer's transaction: the summary of any period reads at most days x types
rows, whatever the number of events. docs/events.md says why and what it costs.
"""

from datetime import date

from comptoir.db.pool import Executor

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


async def fetch_summary_json(db: Executor, *, first_day: date, last_day: date) -> str:
    document: str = await db.fetchval(SUMMARY, first_day, last_day)
    return document
