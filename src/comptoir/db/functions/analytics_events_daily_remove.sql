-- The daily rollup's side of deleted events (and of the old side of updated ones): one
-- decrement per statement and per (day, type), keys taken in order, as the insert side.
CREATE OR REPLACE FUNCTION public.analytics_events_daily_remove()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    DECLARE
        gone record;
    BEGIN
        FOR gone IN
            SELECT (created_at AT TIME ZONE 'UTC')::date AS day, event_type, count(*) AS n
            FROM removed
            GROUP BY 1, 2
            ORDER BY 1, 2
        LOOP
            UPDATE analytics_events_daily SET count = count - gone.n
            WHERE day = gone.day AND event_type = gone.event_type AND count > gone.n;
            IF NOT FOUND THEN
                DELETE FROM analytics_events_daily
                WHERE day = gone.day AND event_type = gone.event_type;
            END IF;
        END LOOP;
        RETURN NULL;
    END
    $$;
