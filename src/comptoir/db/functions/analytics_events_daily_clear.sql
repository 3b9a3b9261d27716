-- The daily rollup's side of a TRUNCATE of analytics_events: its counters go too.
CREATE OR REPLACE FUNCTION public.analytics_events_daily_clear()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    BEGIN
        DELETE FROM analytics_events_daily;
        RETURN NULL;
    END
    $$;
