-- Privileges of both roles on this database's tables; idempotent, and run again by
-- anyone who creates the roles after the migration. Partitions are left out: the app
-- reaches analytics_events through the parent, where the policies are.
CREATE OR REPLACE FUNCTION public.grant_app_privileges()
 RETURNS void
 LANGUAGE plpgsql
AS $$
    DECLARE
        tbl regclass;
    BEGIN
        IF (SELECT count(*) FROM pg_roles
            WHERE rolname IN ('comptoir_app', 'comptoir_staff')) < 2 THEN
            RAISE NOTICE 'roles comptoir_app and comptoir_staff missing: nothing granted';
            RETURN;
        END IF;
        GRANT USAGE ON SCHEMA public TO comptoir_app, comptoir_staff;
        FOR tbl IN
            SELECT c.oid FROM pg_class AS c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
              AND NOT c.relispartition AND c.relname <> 'alembic_version'
        LOOP
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s'
                           ' TO comptoir_app, comptoir_staff', tbl);
        END LOOP;
        -- /readyz reads the schema's revision.
        GRANT SELECT ON alembic_version TO comptoir_app, comptoir_staff;
    END
    $$;
