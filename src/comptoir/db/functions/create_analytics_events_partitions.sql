-- Creates the monthly partitions from the month of `start` for `months` months, skipping
-- those that exist; named analytics_events_yYYYYmMM. Month bounds are taken in UTC.
CREATE OR REPLACE FUNCTION public.create_analytics_events_partitions(start timestamp with time zone, months integer)
 RETURNS SETOF text
 LANGUAGE plpgsql
AS $$
    DECLARE
        first_month timestamp := date_trunc('month', start AT TIME ZONE 'UTC');
        lower_bound timestamp;
        partition   text;
    BEGIN
        FOR i IN 0 .. months - 1 LOOP
            lower_bound := first_month + make_interval(months => i);
            partition := format('analytics_events_y%sm%s',
                                to_char(lower_bound, 'YYYY'), to_char(lower_bound, 'MM'));
            IF to_regclass(format('%I', partition)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF analytics_events FOR VALUES FROM (%L) TO (%L)',
                    partition,
                    lower_bound AT TIME ZONE 'UTC',
                    (lower_bound + interval '1 month') AT TIME ZONE 'UTC');
                RETURN NEXT partition;
            END IF;
        END LOOP;
    END
    $$;
