-- Statement-level with transition tables: one upsert per statement and per (day, type),
-- not per row. Keys are taken in (day, type) order, so two batches that touch the same
-- counters queue behind each other instead of deadlocking.
CREATE OR REPLACE FUNCTION public.analytics_events_daily_add()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    BEGIN
        INSERT INTO analytics_events_daily AS d (day, event_type, count)
        SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, count(*)
        FROM added
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (day, event_type) DO UPDATE SET count = d.count + excluded.count;
        RETURN NULL;
    END
    $$;
