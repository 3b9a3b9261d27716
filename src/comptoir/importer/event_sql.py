"""The events' bulk path (queries.py sends it): most of a store, so they take the way bulk
loads are done, not the row-by-row inserts of the other collections."""

EVENT_ID = "md5('event:' || COALESCE('id:' || e.key, 'at:' || e.ord))::uuid"

# Events are most of a store. Months that have no partition yet are loaded the way bulk
# loads are done: into bare tables, routed there by a scratch partitioned table that has no
# indexes; ATTACH PARTITION then builds each month's indexes in one pass, several times
# faster than maintaining them row by row (2x on a 1M-record store over 48 months, where the
# per-month DDL is a fixed cost). Months that already have a partition, or rows in
# DEFAULT, take the plain INSERT.
NEW_MONTHS = """
SELECT format('analytics_events_y%sm%s', to_char(m.month, 'YYYY'), to_char(m.month, 'MM'))
           AS name,
       m.month AS lower, m.month + interval '1 month' AS upper
FROM unnest($1::timestamptz[]) AS m (month)
WHERE to_regclass(format('analytics_events_y%sm%s', to_char(m.month, 'YYYY'),
                         to_char(m.month, 'MM'))) IS NULL
  AND NOT EXISTS (
      SELECT FROM analytics_events_default d
      WHERE d.created_at >= m.month AND d.created_at < m.month + interval '1 month')
ORDER BY m.month
"""

ROUTER = """
CREATE TABLE import_events_router (LIKE analytics_events INCLUDING DEFAULTS)
    PARTITION BY RANGE (created_at);
CREATE TABLE import_events_rest PARTITION OF import_events_router DEFAULT;
"""

BARE_MONTH = """
CREATE TABLE {name} (LIKE analytics_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE import_events_router ATTACH PARTITION {name} FOR VALUES FROM ({lower}) TO ({upper});
"""

UNKNOWN_EVENT_USERS = """
SELECT count(*) FROM import_analytics e
WHERE e.user_key IS NOT NULL
  AND NOT EXISTS (SELECT FROM import_user_map m WHERE m.key = e.user_key)
"""

ROUTE_EVENTS = f"""
INSERT INTO import_events_router (id, event_type, user_id, payload, created_at, legacy_id)
SELECT {EVENT_ID}, e.event_type, m.user_id,
       CASE WHEN p.payload IS NULL OR jsonb_typeof(p.payload) = 'null' THEN '{{}}'::jsonb
            WHEN jsonb_typeof(p.payload) = 'object' THEN p.payload
            ELSE jsonb_build_object('value', p.payload) END,
       e.created_at, e.key
FROM import_analytics e
CROSS JOIN LATERAL (SELECT COALESCE(e.raw -> 'payload', e.raw -> 'data') AS payload) p
LEFT JOIN import_user_map m ON m.key = e.user_key
"""

# Rows routed into bare month tables bypass the statement triggers on analytics_events that
# keep the daily rollup (migration 0005), and ATTACH fires none: they are counted in here.
ROLLUP_ROUTED = """
INSERT INTO analytics_events_daily AS d (day, event_type, count)
SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, count(*)
FROM import_events_router
WHERE tableoid <> 'import_events_rest'::regclass
GROUP BY 1, 2
ORDER BY 1, 2
ON CONFLICT (day, event_type) DO UPDATE SET count = d.count + excluded.count
"""

ATTACH_MONTH = """
ALTER TABLE import_events_router DETACH PARTITION {name};
ALTER TABLE analytics_events ATTACH PARTITION {name} FOR VALUES FROM ({lower}) TO ({upper});
"""

INSERT_OTHER_EVENTS = """
INSERT INTO analytics_events (id, event_type, user_id, payload, created_at, legacy_id)
SELECT id, event_type, user_id, payload, created_at, legacy_id FROM import_events_rest
ON CONFLICT DO NOTHING
"""

# The rows that took the plain INSERT and are in the database; the new months' tables hold
# exactly the rows routed into them.
FOUND_OTHER_EVENTS = """
SELECT count(*) FROM analytics_events
WHERE (id, created_at) IN (SELECT id, created_at FROM import_events_rest)
"""
