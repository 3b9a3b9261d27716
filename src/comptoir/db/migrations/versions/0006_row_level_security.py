"""Row-level security: the app's login roles, their privileges, the per-customer policies.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

The migrating role keeps owning the schema (an owner is not subject to its tables' policies).
With COMPTOIR_RLS=on the app logs in as `comptoir_app` (neither owner, superuser nor
BYPASSRLS) and says per transaction who it serves (docs/rls.md):

- a customer: `set_config('comptoir.user_id', <id>, true)`; the policies below show and
  accept only that user's rows;
- admin routes and the payment webhook: `SET LOCAL ROLE comptoir_staff` as well, whose
  policies see every order, payment and event (a separate role rather than a setting, so that
  the planner drops the customer filter outright and keeps every index for the back office);
- anonymous, or nothing said: no row of these tables.

Roles are cluster-wide: created here when the migrating role may create roles (superuser or
CREATEROLE; the embedded server's is a superuser), left to the DBA otherwise (docs/rls.md),
and left in place by the downgrade, since other databases of the cluster may use them.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    -- The customer a transaction serves; NULL when unset, and NULL matches no row.
    CREATE FUNCTION request_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN nullif(current_setting('comptoir.user_id', true), '')::uuid;

    DO $$
    DECLARE
        may_create boolean := (SELECT rolsuper OR rolcreaterole FROM pg_roles
                               WHERE rolname = current_user);
    BEGIN
        IF (SELECT count(*) FROM pg_roles
            WHERE rolname IN ('comptoir_app', 'comptoir_staff')) = 2 THEN
            RETURN;
        END IF;
        IF NOT may_create THEN
            RAISE NOTICE 'no right to create roles: create comptoir_app and comptoir_staff '
                         'as docs/rls.md shows, then run SELECT grant_app_privileges()';
            RETURN;
        END IF;
        -- Other databases of the cluster may be migrating at the same moment: whoever
        -- comes second finds the role made.
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'comptoir_staff') THEN
                CREATE ROLE comptoir_staff NOLOGIN;
            END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'comptoir_app') THEN
                -- NOINHERIT: the app may SET ROLE comptoir_staff when a transaction asks
                -- for it, but the staff policies never apply to it otherwise.
                CREATE ROLE comptoir_app LOGIN NOINHERIT;
                GRANT comptoir_staff TO comptoir_app;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END
    $$;

    -- Privileges of both roles on this database's tables; idempotent, and run again by
    -- anyone who creates the roles after the migration. Partitions are left out: the app
    -- reaches analytics_events through the parent, where the policies are.
    CREATE FUNCTION grant_app_privileges() RETURNS void
    LANGUAGE plpgsql AS $$
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
    REVOKE EXECUTE ON FUNCTION grant_app_privileges() FROM PUBLIC;
    SELECT grant_app_privileges();

    -- Each policy compares the row's own column with `(SELECT request_user_id())`: an init
    -- plan, computed once per statement, so that `user_id = $1` in a query and the policy
    -- both use the seed's (user_id, ...) indexes, and no function runs per row. Policies
    -- without TO apply to everyone but the owner: comptoir_staff gets the customer's
    -- policies too (an admin's own cart) plus its own.

    ALTER TABLE carts ENABLE ROW LEVEL SECURITY;
    CREATE POLICY carts_of_user ON carts
        USING (user_id = (SELECT request_user_id()));

    -- One cart per user: the caller's cart id is one init plan, an index condition on
    -- cart_items(cart_id). The cart a statement creates is not visible to the same
    -- statement's check: the app creates it first (carts/router.py).
    ALTER TABLE cart_items ENABLE ROW LEVEL SECURITY;
    CREATE POLICY cart_items_of_user ON cart_items
        USING (cart_id = (SELECT carts.id FROM carts
                          WHERE carts.user_id = (SELECT request_user_id())));

    ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
    CREATE POLICY idempotency_keys_of_user ON idempotency_keys
        USING (user_id = (SELECT request_user_id()));

    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    CREATE POLICY orders_of_user ON orders
        USING (user_id = (SELECT request_user_id()));
    CREATE POLICY orders_of_staff ON orders TO comptoir_staff
        USING (true);

    -- A line goes with its order: visible when the order is (the orders policies apply
    -- inside), one primary-key probe per line.
    ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;
    CREATE POLICY order_items_of_user ON order_items
        USING (EXISTS (SELECT FROM orders WHERE orders.id = order_items.order_id));
    CREATE POLICY order_items_of_staff ON order_items TO comptoir_staff
        USING (true);

    -- The provider's deliveries: the webhook and the back office only.
    ALTER TABLE payment_events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY payment_events_of_staff ON payment_events TO comptoir_staff
        USING (true);

    -- Anyone may record events (anonymous ones have no user); a customer reads only theirs.
    ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY analytics_events_of_user ON analytics_events
        USING (user_id = (SELECT request_user_id()));
    CREATE POLICY analytics_events_anonymous_insert ON analytics_events FOR INSERT
        WITH CHECK (user_id IS NULL);
    CREATE POLICY analytics_events_of_staff ON analytics_events TO comptoir_staff
        USING (true);

    -- Checkout with RLS on: the buyer's context and place_order() in one statement, so that
    -- checkout stays one round trip and its product locks last no longer than without RLS
    -- (a BEGIN and a COMMIT of its own would hold them for one more round trip).
    CREATE FUNCTION place_order_as_buyer(
        buyer uuid, idempotency_key text, request_fingerprint text, currency text
    ) RETURNS jsonb
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM set_config('comptoir.user_id', buyer::text, true);
        RETURN place_order(buyer, idempotency_key, request_fingerprint, currency);
    END
    $$;
    """)


def downgrade() -> None:
    run_sql("""
    DROP FUNCTION place_order_as_buyer(uuid, text, text, text);
    DROP POLICY analytics_events_of_staff ON analytics_events;
    DROP POLICY analytics_events_anonymous_insert ON analytics_events;
    DROP POLICY analytics_events_of_user ON analytics_events;
    ALTER TABLE analytics_events DISABLE ROW LEVEL SECURITY;
    DROP POLICY payment_events_of_staff ON payment_events;
    ALTER TABLE payment_events DISABLE ROW LEVEL SECURITY;
    DROP POLICY order_items_of_staff ON order_items;
    DROP POLICY order_items_of_user ON order_items;
    ALTER TABLE order_items DISABLE ROW LEVEL SECURITY;
    DROP POLICY orders_of_staff ON orders;
    DROP POLICY orders_of_user ON orders;
    ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
    DROP POLICY idempotency_keys_of_user ON idempotency_keys;
    ALTER TABLE idempotency_keys DISABLE ROW LEVEL SECURITY;
    DROP POLICY cart_items_of_user ON cart_items;
    ALTER TABLE cart_items DISABLE ROW LEVEL SECURITY;
    DROP POLICY carts_of_user ON carts;
    ALTER TABLE carts DISABLE ROW LEVEL SECURITY;

    -- What this database granted; the roles stay (other databases may use them).
    DO $$
    BEGIN
        IF (SELECT count(*) FROM pg_roles
            WHERE rolname IN ('comptoir_app', 'comptoir_staff')) = 2 THEN
            REVOKE ALL ON ALL TABLES IN SCHEMA public FROM comptoir_app, comptoir_staff;
            REVOKE USAGE ON SCHEMA public FROM comptoir_app, comptoir_staff;
        END IF;
    END
    $$;
    DROP FUNCTION grant_app_privileges();
    DROP FUNCTION request_user_id();
    """)
