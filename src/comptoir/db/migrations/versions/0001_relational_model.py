"""The relational model of the seed: users, catalog, carts, orders, leads, analytics events.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    -- citext: emails compare case-insensitively in every query and in the unique index,
    -- so no query can forget a lower() and the seed's users(email) index stays itself.
    CREATE EXTENSION IF NOT EXISTS citext;
    -- pg_trgm: the trigram GIN index behind fuzzy product search.
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    CREATE TYPE user_role AS ENUM ('admin', 'customer');
    CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

    -- Keeps updated_at honest whatever code path writes the row.
    CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.updated_at := now();
        RETURN NEW;
    END
    $$;

    CREATE TABLE users (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email         citext NOT NULL,
        -- NULL: no usable password (an imported account without one); login is refused.
        password_hash text,
        role          user_role NOT NULL DEFAULT 'customer',
        name          text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_key UNIQUE (email),
        CONSTRAINT users_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320)
    );

    CREATE TABLE products (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name        text NOT NULL,
        description text NOT NULL DEFAULT '',
        price       numeric(12, 2) NOT NULL,
        stock       integer NOT NULL DEFAULT 0,
        active      boolean NOT NULL DEFAULT true,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        deleted_at  timestamptz,
        CONSTRAINT products_name_check CHECK (btrim(name) <> ''),
        CONSTRAINT products_price_check CHECK (price >= 0),
        CONSTRAINT products_stock_check CHECK (stock >= 0)
    );
    CREATE INDEX products_active_created_at_idx
        ON products (active, created_at DESC) WHERE deleted_at IS NULL;
    CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);

    CREATE TABLE carts (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT carts_user_id_key UNIQUE (user_id)
    );

    CREATE TABLE cart_items (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cart_id    uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
        quantity   integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT cart_items_cart_id_product_id_key UNIQUE (cart_id, product_id),
        CONSTRAINT cart_items_quantity_check CHECK (quantity > 0)
    );
    CREATE INDEX cart_items_cart_id_idx ON cart_items (cart_id);

    CREATE TABLE orders (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id           uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
        status            order_status NOT NULL DEFAULT 'pending',
        total_amount      numeric(12, 2) NOT NULL,
        payment_intent_id text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT orders_payment_intent_id_key UNIQUE (payment_intent_id),
        CONSTRAINT orders_total_amount_check CHECK (total_amount >= 0)
    );
    CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at DESC);
    CREATE INDEX orders_status_created_at_idx ON orders (status, created_at DESC);

    CREATE TABLE order_items (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
        quantity   integer NOT NULL,
        unit_price numeric(12, 2) NOT NULL,
        CONSTRAINT order_items_order_id_product_id_key UNIQUE (order_id, product_id),
        CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
        CONSTRAINT order_items_unit_price_check CHECK (unit_price >= 0)
    );

    CREATE TABLE leads (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name       text NOT NULL,
        email      citext NOT NULL,
        message    text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX leads_created_at_idx ON leads (created_at DESC);
    CREATE INDEX leads_email_idx ON leads (email);

    -- Partitioned by month from the start: old months detach and drop in an instant, and a
    -- query over a period reads only that period's partitions.
    CREATE TABLE analytics_events (
        id         uuid NOT NULL DEFAULT gen_random_uuid(),
        event_type text NOT NULL,
        user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
        payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- A partitioned table's keys must hold the partition key.
        CONSTRAINT analytics_events_pkey PRIMARY KEY (id, created_at),
        CONSTRAINT analytics_events_event_type_check
            CHECK (btrim(event_type) <> '' AND length(event_type) <= 100),
        CONSTRAINT analytics_events_payload_check CHECK (jsonb_typeof(payload) = 'object')
    ) PARTITION BY RANGE (created_at);
    CREATE INDEX analytics_events_event_type_created_at_idx
        ON analytics_events (event_type, created_at DESC);
    CREATE INDEX analytics_events_user_id_created_at_idx
        ON analytics_events (user_id, created_at DESC) WHERE user_id IS NOT NULL;
    CREATE INDEX analytics_events_payload_idx ON analytics_events USING gin (payload);
    -- No insert ever fails for want of a partition; maintenance moves strays to their month.
    CREATE TABLE analytics_events_default PARTITION OF analytics_events DEFAULT;

    -- Creates the monthly partitions from the month of `start` for `months` months, skipping
    -- those that exist; named analytics_events_yYYYYmMM. Month bounds are taken in UTC.
    CREATE FUNCTION create_analytics_events_partitions(start timestamptz, months integer)
    RETURNS SETOF text
    LANGUAGE plpgsql AS $$
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
    SELECT create_analytics_events_partitions(now(), 2);

    CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    CREATE TRIGGER products_set_updated_at BEFORE UPDATE ON products
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    CREATE TRIGGER carts_set_updated_at BEFORE UPDATE ON carts
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    CREATE TRIGGER cart_items_set_updated_at BEFORE UPDATE ON cart_items
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    CREATE TRIGGER orders_set_updated_at BEFORE UPDATE ON orders
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    """)


def downgrade() -> None:
    run_sql("""
    DROP TABLE analytics_events;
    DROP FUNCTION create_analytics_events_partitions(timestamptz, integer);
    DROP TABLE leads;
    DROP TABLE order_items;
    DROP TABLE orders;
    DROP TABLE cart_items;
    DROP TABLE carts;
    DROP TABLE products;
    DROP TABLE users;
    DROP FUNCTION set_updated_at();
    DROP TYPE order_status;
    DROP TYPE user_role;
    DROP EXTENSION IF EXISTS pg_trgm;
    DROP EXTENSION IF EXISTS citext;
    """)
