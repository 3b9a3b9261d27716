-- Makes sure the month of `month` (UTC) has its partition, and moves into it the events
-- that landed in the DEFAULT partition for want of one; returns how many moved, or NULL
-- when the partition was there already. Runs in the caller's transaction (take
-- lock_timeout there). Rows move between partitions directly, so the daily counts, which
-- count per table and not per partition, stay as they are.
CREATE OR REPLACE FUNCTION public.ensure_analytics_events_partition(month timestamp with time zone)
 RETURNS bigint
 LANGUAGE plpgsql
AS $$
    DECLARE
        first_day   timestamp := date_trunc('month', month AT TIME ZONE 'UTC');
        lower_bound timestamptz := first_day AT TIME ZONE 'UTC';
        upper_bound timestamptz := (first_day + interval '1 month') AT TIME ZONE 'UTC';
        partition   text := format('analytics_events_y%sm%s',
                                   to_char(first_day, 'YYYY'), to_char(first_day, 'MM'));
        moved       bigint := 0;
    BEGIN
        IF to_regclass(format('%I', partition)) IS NOT NULL THEN
            RETURN NULL;
        END IF;
        -- Creating a partition takes this lock anyway; taken first, no writer can slip a row
        -- for this month into DEFAULT between the move and the creation.
        LOCK TABLE analytics_events IN ACCESS EXCLUSIVE MODE;
        IF EXISTS (SELECT FROM analytics_events_default
                   WHERE created_at >= lower_bound AND created_at < upper_bound) THEN
            CREATE TEMPORARY TABLE analytics_events_strays
                (LIKE analytics_events_default) ON COMMIT DROP;
            WITH gone AS (
                DELETE FROM analytics_events_default
                WHERE created_at >= lower_bound AND created_at < upper_bound
                RETURNING *
            )
            INSERT INTO analytics_events_strays SELECT * FROM gone;
            GET DIAGNOSTICS moved = ROW_COUNT;
        END IF;
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF analytics_events FOR VALUES FROM (%L) TO (%L)',
            partition, lower_bound, upper_bound);
        IF moved > 0 THEN
            EXECUTE format('INSERT INTO %I SELECT * FROM analytics_events_strays', partition);
            DROP TABLE analytics_events_strays;
        END IF;
        RETURN moved;
    END
    $$;
