"""Leads and analytics events: the daily rollup behind the summary, partition upkeep.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    -- Counts per UTC day and event type: the summary reads a few hundred rows of this
    -- instead of grouping millions of events. Kept current by the statement triggers below,
    -- in the writer's own transaction, whoever writes (the API, COPY, the importer, psql).
    CREATE TABLE analytics_events_daily (
        day        date NOT NULL,
        event_type text NOT NULL,
        count      bigint NOT NULL,
        CONSTRAINT analytics_events_daily_pkey PRIMARY KEY (day, event_type),
        CONSTRAINT analytics_events_daily_count_check CHECK (count > 0)
    );

    -- Statement-level with transition tables: one upsert per statement and per (day, type),
    -- not per row. Keys are taken in (day, type) order, so two batches that touch the same
    -- counters queue behind each other instead of deadlocking.
    CREATE FUNCTION analytics_events_daily_add() RETURNS trigger
    LANGUAGE plpgsql AS $$
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

    CREATE FUNCTION analytics_events_daily_remove() RETURNS trigger
    LANGUAGE plpgsql AS $$
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

    CREATE FUNCTION analytics_events_daily_clear() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM analytics_events_daily;
        RETURN NULL;
    END
    $$;

    -- A trigger with transition tables serves one event: inserts, deletes, and both sides
    -- of an update, each have theirs. They fire for statements on analytics_events itself
    -- (never for statements naming a partition: partition upkeep relies on that).
    CREATE TRIGGER analytics_events_daily_insert AFTER INSERT ON analytics_events
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_events_daily_add();
    CREATE TRIGGER analytics_events_daily_delete AFTER DELETE ON analytics_events
        REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_events_daily_remove();
    CREATE TRIGGER analytics_events_daily_update_old AFTER UPDATE ON analytics_events
        REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_events_daily_remove();
    CREATE TRIGGER analytics_events_daily_update_new AFTER UPDATE ON analytics_events
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_events_daily_add();
    CREATE TRIGGER analytics_events_daily_truncate AFTER TRUNCATE ON analytics_events
        FOR EACH STATEMENT EXECUTE FUNCTION analytics_events_daily_clear();

    INSERT INTO analytics_events_daily (day, event_type, count)
    SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, count(*)
    FROM analytics_events
    GROUP BY 1, 2;

    -- The admin listing without a type, user or payload filter, newest first: each
    -- partition's index read from the top, merged, stops after one page. On an expression
    -- that only that listing orders by: a plain (created_at) index would lure the planner
    -- away from the seed's (event_type, created_at DESC) for type-and-period queries.
    -- Spelled timezone(...), not AT TIME ZONE, which PostgreSQL 15 and 18 print differently.
    CREATE INDEX analytics_events_recent_idx
        ON analytics_events (timezone('UTC', created_at) DESC);

    -- Makes sure the month of `month` (UTC) has its partition, and moves into it the events
    -- that landed in the DEFAULT partition for want of one; returns how many moved, or NULL
    -- when the partition was there already. Runs in the caller's transaction (take
    -- lock_timeout there). Rows move between partitions directly, so the daily counts, which
    -- count per table and not per partition, stay as they are.
    CREATE FUNCTION ensure_analytics_events_partition(month timestamptz) RETURNS bigint
    LANGUAGE plpgsql AS $$
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
    """)


def downgrade() -> None:
    run_sql("""
    DROP FUNCTION ensure_analytics_events_partition(timestamptz);
    DROP INDEX analytics_events_recent_idx;
    DROP TRIGGER analytics_events_daily_truncate ON analytics_events;
    DROP TRIGGER analytics_events_daily_update_new ON analytics_events;
    DROP TRIGGER analytics_events_daily_update_old ON analytics_events;
    DROP TRIGGER analytics_events_daily_delete ON analytics_events;
    DROP TRIGGER analytics_events_daily_insert ON analytics_events;
    DROP FUNCTION analytics_events_daily_clear();
    DROP FUNCTION analytics_events_daily_remove();
    DROP FUNCTION analytics_events_daily_add();
    DROP TABLE analytics_events_daily;
    """)
