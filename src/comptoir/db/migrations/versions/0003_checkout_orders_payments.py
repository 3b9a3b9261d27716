"""Checkout, orders and payments: idempotency keys, the order transaction, payment events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    -- One row per (user, Idempotency-Key) of a checkout that created an order, written in the
    -- order's own transaction (place_order below): a retry finds it and gets the same order
    -- back; a concurrent duplicate waits on the primary key until the first one ends.
    CREATE TABLE idempotency_keys (
        user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        key          text NOT NULL,
        fingerprint  text NOT NULL,
        order_id     uuid REFERENCES orders (id) ON DELETE CASCADE,
        status_code  integer,
        response     jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL DEFAULT now() + interval '24 hours',
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
        CONSTRAINT idempotency_keys_key_check CHECK (length(key) BETWEEN 1 AND 255)
    );
    CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

    -- Every delivery of the payment provider's webhook that carried a new event: the
    -- primary key makes a second delivery of the same event a no-op, and a payment that
    -- could not be applied (order cancelled, unknown) is kept here with what was decided.
    CREATE TABLE payment_events (
        event_id          text PRIMARY KEY,
        payment_intent_id text NOT NULL,
        order_id          uuid REFERENCES orders (id) ON DELETE RESTRICT,
        outcome           text NOT NULL,
        result            text NOT NULL,
        payload           jsonb NOT NULL,
        received_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payment_events_outcome_check CHECK (outcome IN ('succeeded', 'failed')),
        CONSTRAINT payment_events_result_check CHECK (result IN (
            'paid', 'already_paid', 'payment_failed', 'order_cancelled', 'order_not_payable',
            'unknown_order', 'intent_mismatch'))
    );
    CREATE INDEX payment_events_order_id_idx ON payment_events (order_id);
    -- Support looks payments up by the provider's id.
    CREATE INDEX payment_events_payment_intent_id_idx ON payment_events (payment_intent_id);

    -- An order as the API shows it: lines with the product's current name and the price
    -- paid. One definition for checkout, replays and the order routes.
    CREATE FUNCTION order_document(order_id uuid, currency text) RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN (
        SELECT jsonb_build_object(
            'id', o.id, 'status', o.status, 'total', o.total_amount::text,
            'currency', currency, 'payment_intent_id', o.payment_intent_id,
            'created_at', o.created_at, 'updated_at', o.updated_at,
            'items', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'product_id', oi.product_id, 'name', p.name, 'quantity', oi.quantity,
                    'unit_price', oi.unit_price::text,
                    'line_total', (oi.unit_price * oi.quantity)::text) ORDER BY p.name, oi.id)
                FROM order_items AS oi JOIN products AS p ON p.id = oi.product_id
                WHERE oi.order_id = o.id), '[]'::jsonb))
        FROM orders AS o WHERE o.id = order_document.order_id);

    -- A refused checkout wrote nothing but its key: removing the key leaves the database as
    -- if the attempt never happened, and the same key may be tried again.
    CREATE FUNCTION release_idempotency_key(buyer uuid, idempotency_key text) RETURNS void
    LANGUAGE sql
    BEGIN ATOMIC
        -- No table alias: servers before 18 print one back with AS, 18 without, and
        -- db/postgres_schema.sql must read the same on every server.
        DELETE FROM idempotency_keys WHERE user_id = buyer AND key = idempotency_key;
    END;

    -- Checkout, the seed's section 4, as one statement: one round trip, one transaction,
    -- so that the products stay locked for as short a time as possible.
    --   {"order": ...}             the order was placed;
    --   {"replay": ..., "status"}  this key already placed an order: its stored response;
    --   {"key_reused": true}       this key was used for a different request;
    --   {"empty": true} / {"short": [...]}  refused: nothing written, the key left free.
    -- A duplicate arriving while the first is in flight waits on the key's primary key,
    -- then replays (first committed an order) or claims the key (first was refused).
    CREATE FUNCTION place_order(
        buyer uuid, idempotency_key text, request_fingerprint text, currency text
    ) RETURNS jsonb
    LANGUAGE plpgsql AS $$
    DECLARE
        the_cart uuid;
        short    jsonb;
        new_id   uuid;
        document jsonb;
        stored   record;
    BEGIN
        -- An expired key is free again (maintenance purges the others).
        DELETE FROM idempotency_keys AS k
        WHERE k.user_id = buyer AND k.key = idempotency_key AND k.expires_at < now();
        INSERT INTO idempotency_keys (user_id, key, fingerprint)
        VALUES (buyer, idempotency_key, request_fingerprint)
        ON CONFLICT (user_id, key) DO NOTHING;
        IF NOT FOUND THEN
            SELECT k.fingerprint, k.status_code, k.response INTO stored
            FROM idempotency_keys AS k WHERE k.user_id = buyer AND k.key = idempotency_key;
            IF stored.fingerprint <> request_fingerprint THEN
                RETURN '{"key_reused": true}'::jsonb;
            END IF;
            RETURN jsonb_build_object('replay', stored.response, 'status', stored.status_code);
        END IF;

        -- The cart row first: two checkouts of one cart take turns, and the second finds
        -- it empty.
        SELECT c.id INTO the_cart FROM carts AS c WHERE c.user_id = buyer FOR UPDATE;
        IF the_cart IS NULL OR NOT EXISTS (
            SELECT 1 FROM cart_items AS ci WHERE ci.cart_id = the_cart
        ) THEN
            PERFORM release_idempotency_key(buyer, idempotency_key);
            RETURN '{"empty": true}'::jsonb;
        END IF;

        -- Lock the products in id order: every checkout and cancellation takes its locks
        -- in the same order, so two of them can never deadlock.
        PERFORM 1 FROM products AS p
        WHERE p.id IN (SELECT ci.product_id FROM cart_items AS ci
                       WHERE ci.cart_id = the_cart)
        ORDER BY p.id
        FOR UPDATE;

        SELECT jsonb_agg(jsonb_build_object(
                   'product_id', p.id, 'name', p.name, 'requested', ci.quantity,
                   'available', CASE WHEN p.active AND p.deleted_at IS NULL THEN p.stock ELSE 0 END)
               ORDER BY p.id)
        INTO short
        FROM cart_items AS ci JOIN products AS p ON p.id = ci.product_id
        WHERE ci.cart_id = the_cart
          AND (p.stock < ci.quantity OR NOT p.active OR p.deleted_at IS NOT NULL);
        IF short IS NOT NULL THEN
            PERFORM release_idempotency_key(buyer, idempotency_key);
            RETURN jsonb_build_object('short', short);
        END IF;

        INSERT INTO orders (user_id, total_amount)
        SELECT buyer, sum(p.price * ci.quantity)
        FROM cart_items AS ci JOIN products AS p ON p.id = ci.product_id
        WHERE ci.cart_id = the_cart
        RETURNING id INTO new_id;

        INSERT INTO order_items (order_id, product_id, quantity, unit_price)
        SELECT new_id, ci.product_id, ci.quantity, p.price
        FROM cart_items AS ci JOIN products AS p ON p.id = ci.product_id
        WHERE ci.cart_id = the_cart;

        UPDATE products AS p SET stock = p.stock - ci.quantity
        FROM cart_items AS ci
        WHERE ci.cart_id = the_cart AND p.id = ci.product_id;

        DELETE FROM cart_items AS ci WHERE ci.cart_id = the_cart;

        document := order_document(new_id, currency);
        UPDATE idempotency_keys AS k
        SET order_id = new_id, status_code = 201, response = document
        WHERE k.user_id = buyer AND k.key = idempotency_key;
        RETURN jsonb_build_object('order', document);
    END
    $$;

    -- The order total is the sum of its lines, checked by the database at commit: a
    -- deferred constraint trigger, so that an order and its lines can be written in any
    -- order within a transaction.
    CREATE FUNCTION check_order_total() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        checked uuid;
        expected numeric;
        actual numeric;
    BEGIN
        IF TG_TABLE_NAME = 'orders' THEN
            checked := NEW.id;
        ELSIF TG_OP = 'DELETE' THEN
            checked := OLD.order_id;
        ELSE
            checked := NEW.order_id;
        END IF;
        SELECT o.total_amount INTO expected FROM orders AS o WHERE o.id = checked;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        SELECT coalesce(sum(oi.unit_price * oi.quantity), 0) INTO actual
        FROM order_items AS oi WHERE oi.order_id = checked;
        IF expected <> actual THEN
            RAISE EXCEPTION 'order % total % is not the sum of its lines (%)',
                checked, expected, actual
                USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_total_is_sum_of_lines';
        END IF;
        RETURN NULL;
    END
    $$;
    CREATE CONSTRAINT TRIGGER orders_total_is_sum_of_lines
        AFTER INSERT OR UPDATE OF total_amount ON orders
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION check_order_total();
    CREATE CONSTRAINT TRIGGER order_items_total_is_sum_of_lines
        AFTER INSERT OR UPDATE OR DELETE ON order_items
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION check_order_total();
    """)


def downgrade() -> None:
    run_sql("""
    DROP TRIGGER order_items_total_is_sum_of_lines ON order_items;
    DROP TRIGGER orders_total_is_sum_of_lines ON orders;
    DROP FUNCTION check_order_total();
    DROP FUNCTION place_order(uuid, text, text, text);
    DROP FUNCTION release_idempotency_key(uuid, text);
    DROP FUNCTION order_document(uuid, text);
    DROP TABLE payment_events;
    DROP TABLE idempotency_keys;
    """)
