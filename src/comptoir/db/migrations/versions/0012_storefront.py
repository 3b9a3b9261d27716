"""A storefront can run on it: sessions with rotating refresh tokens, one-time links by
mail (password reset, email verification and change), and the outbox of mails.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

A session is a family of refresh tokens (RFC 9700, the OAuth 2.0 security best current
practice, 4.14.2): each refresh spends its token and issues the next one in the family;
presenting a spent token again means it leaked, so the whole family is revoked. Access
tokens name their session (`sid`), so revoking a session ends its access tokens at once.

Like `users` and `revoked_tokens`, these tables are read before the caller is known (that
is what they decide), so they have no row-level security policies: the app's role reaches
them through the authentication queries only. So are `account_links`.

The outbox is written by whatever causes a mail, in the same transaction (a rolled-back
registration sends nothing; a committed one is sent even if the process dies right after),
and read by the background sender. It holds personal data, so with row-level security on
anyone may add a mail but only the back office's role (the sender serves as it) reads one.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    CREATE TABLE sessions (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    );
    CREATE INDEX sessions_user_id_idx ON sessions (user_id);

    -- Only the SHA-256 of a refresh token is kept: a copy of the table refreshes nothing.
    CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        spent_at   timestamptz
    );
    CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
    CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

    ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
    -- An erased account stays as an anonymous row: its orders (the shop's books) still
    -- point at it.
    ALTER TABLE users ADD COLUMN erased_at timestamptz;

    -- The addresses an order is shipped and billed to, as they were at checkout (a later
    -- change of the customer's saved addresses never rewrites an order), validated by the API
    -- (comptoir/addresses/schemas.py).
    ALTER TABLE orders ADD COLUMN shipping_address jsonb, ADD COLUMN billing_address jsonb;
    -- Checkout takes the addresses: a new signature, created by the functions' files.
    DROP FUNCTION place_order_as_buyer(uuid, text, text, text, integer);
    DROP FUNCTION place_order(uuid, text, text, text, integer);

    -- A customer's saved addresses, for the next checkout.
    CREATE TABLE addresses (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        line1       text NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
        line2       text CHECK (length(line2) <= 200),
        postal_code text NOT NULL CHECK (length(postal_code) BETWEEN 1 AND 20),
        city        text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
        country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
        phone       text CHECK (length(phone) <= 40),
        created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX addresses_user_id_idx ON addresses (user_id, created_at);
    ALTER TABLE addresses ENABLE ROW LEVEL SECURITY;
    CREATE POLICY addresses_of_user ON addresses
        USING (user_id = (SELECT request_user_id()));

    -- One-time links sent by mail; only the SHA-256 of the token is kept. `new_email` is the
    -- address an email change moves to, verified by the link sent there.
    CREATE TABLE account_links (
        token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
        user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose    text NOT NULL CHECK (purpose IN ('reset', 'verify', 'email_change')),
        new_email  citext CHECK (new_email ~ '^[^@\s]+@[^@\s]+$' AND length(new_email) <= 320),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        CHECK ((purpose = 'email_change') = (new_email IS NOT NULL))
    );
    CREATE INDEX account_links_user_id_idx ON account_links (user_id);

    CREATE TABLE outbox_emails (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind            text NOT NULL,
        recipient       text NOT NULL,
        payload         jsonb NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error      text
    );
    -- The sender's scan: due mails, oldest first. A sent mail is deleted (its link's token
    -- leaves the database with it).
    CREATE INDEX outbox_emails_next_attempt_at_idx ON outbox_emails (next_attempt_at);

    ALTER TABLE outbox_emails ENABLE ROW LEVEL SECURITY;
    CREATE POLICY outbox_emails_insert ON outbox_emails FOR INSERT WITH CHECK (true);
    CREATE POLICY outbox_emails_of_staff ON outbox_emails TO comptoir_staff USING (true);

    SELECT grant_app_privileges();
    """)


def downgrade() -> None:
    run_sql("""
    DROP FUNCTION place_order_as_buyer(uuid, text, text, text, integer, jsonb, jsonb);
    DROP FUNCTION place_order(uuid, text, text, text, integer, jsonb, jsonb);
    """)
    # Revision 0011's checkout, as its files had it: a database below the head has the
    # functions its revisions made (comptoir/db/repeatable.py).
    run_sql(PLACE_ORDER_0011)
    run_sql(PLACE_ORDER_AS_BUYER_0011)
    # order_document() is a SQL-standard body: PostgreSQL tracks the columns it reads, so
    # the old one comes back before the address columns go.
    run_sql(ORDER_DOCUMENT_0011)
    run_sql("""
    DROP TABLE outbox_emails;
    DROP TABLE account_links;
    DROP TABLE addresses;
    ALTER TABLE orders DROP COLUMN shipping_address, DROP COLUMN billing_address;
    ALTER TABLE users DROP COLUMN erased_at;
    ALTER TABLE users DROP COLUMN email_verified_at;
    DROP TABLE refresh_tokens;
    DROP TABLE sessions;
    """)


PLACE_ORDER_0011 = r"""
-- Checkout, the seed's section 4, as one statement: one round trip, one transaction, so
-- that the products stay locked for as short a time as possible.
--   {"order": ...}                   the order was placed;
--   {"replay": ..., "status"}        this key already placed an order: its stored response;
--   {"key_reused": true}             this key was used for a different request;
--   {"empty": true}, {"short": [...]}, {"too_many_pending": n}, {"too_large": total}
--                                    refused: nothing written, the key left free.
-- A duplicate arriving while the first is in flight waits on the key's primary key, then
-- replays (first committed an order) or claims the key (first was refused).
CREATE OR REPLACE FUNCTION public.place_order(
    buyer uuid, idempotency_key text, request_fingerprint text, currency text,
    max_pending integer)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $$
DECLARE
    the_cart   uuid;
    products_  uuid[];
    quantities integer[];
    short      jsonb;
    total      numeric;
    new_id     uuid;
    document   jsonb;
    stored     record;
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

    -- The cart row first: every cart write takes this lock too, so the lines read next are
    -- the lines until the commit, and two checkouts of one cart take turns (the second
    -- finds it empty). The lines are read once; nothing below reads cart_items again.
    SELECT c.id INTO the_cart FROM carts AS c WHERE c.user_id = buyer FOR UPDATE;
    SELECT array_agg(ci.product_id ORDER BY ci.product_id),
           array_agg(ci.quantity ORDER BY ci.product_id)
    INTO products_, quantities
    FROM cart_items AS ci WHERE ci.cart_id = the_cart;
    IF products_ IS NULL THEN
        PERFORM release_idempotency_key(buyer, idempotency_key);
        RETURN '{"empty": true}'::jsonb;
    END IF;

    IF max_pending IS NOT NULL AND (
        SELECT count(*) FROM orders AS o WHERE o.user_id = buyer AND o.status = 'pending'
    ) >= max_pending THEN
        PERFORM release_idempotency_key(buyer, idempotency_key);
        RETURN jsonb_build_object('too_many_pending', max_pending);
    END IF;

    -- Lock the products in id order: every checkout and cancellation takes its locks in the
    -- same order, so two of them can never deadlock.
    PERFORM 1 FROM products AS p WHERE p.id = ANY (products_) ORDER BY p.id FOR UPDATE;

    -- A product gone from the table counts as short, with nothing available.
    SELECT jsonb_agg(jsonb_build_object(
               'product_id', l.product_id, 'name', p.name, 'requested', l.quantity,
               'available', CASE WHEN p.active AND p.deleted_at IS NULL THEN p.stock ELSE 0 END)
           ORDER BY l.product_id)
    INTO short
    FROM unnest(products_, quantities) AS l (product_id, quantity)
    LEFT JOIN products AS p ON p.id = l.product_id
    WHERE p.id IS NULL OR p.stock < l.quantity OR NOT p.active OR p.deleted_at IS NOT NULL;
    IF short IS NOT NULL THEN
        PERFORM release_idempotency_key(buyer, idempotency_key);
        RETURN jsonb_build_object('short', short);
    END IF;

    SELECT sum(p.price * l.quantity) INTO total
    FROM unnest(products_, quantities) AS l (product_id, quantity)
    JOIN products AS p ON p.id = l.product_id;
    -- orders.total_amount is numeric(12,2): a larger total is the customer's to split, not
    -- a server error.
    IF total > 9999999999.99 THEN
        PERFORM release_idempotency_key(buyer, idempotency_key);
        RETURN jsonb_build_object('too_large', total::text);
    END IF;

    INSERT INTO orders (user_id, total_amount) VALUES (buyer, total) RETURNING id INTO new_id;

    INSERT INTO order_items (order_id, product_id, quantity, unit_price)
    SELECT new_id, l.product_id, l.quantity, p.price
    FROM unnest(products_, quantities) AS l (product_id, quantity)
    JOIN products AS p ON p.id = l.product_id;

    UPDATE products AS p SET stock = p.stock - l.quantity
    FROM unnest(products_, quantities) AS l (product_id, quantity)
    WHERE p.id = l.product_id;

    DELETE FROM cart_items AS ci WHERE ci.cart_id = the_cart AND ci.product_id = ANY (products_);

    document := order_document(new_id, currency);
    UPDATE idempotency_keys AS k
    SET order_id = new_id, status_code = 201, response = document
    WHERE k.user_id = buyer AND k.key = idempotency_key;
    RETURN jsonb_build_object('order', document);
END
$$;
"""

PLACE_ORDER_AS_BUYER_0011 = r"""
-- Checkout with RLS on: the buyer's context and place_order() in one statement, so that
-- checkout stays one round trip and its product locks last no longer than without RLS.
-- Checkout with RLS on: the buyer's context and place_order() in one statement, so that
-- checkout stays one round trip and its product locks last no longer than without RLS.
CREATE OR REPLACE FUNCTION public.place_order_as_buyer(
    buyer uuid, idempotency_key text, request_fingerprint text, currency text,
    max_pending integer)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('comptoir.user_id', buyer::text, true);
    RETURN place_order(buyer, idempotency_key, request_fingerprint, currency, max_pending);
END
$$;
"""

ORDER_DOCUMENT_0011 = r"""
-- An order as the API shows it: lines with the product's current name and the price paid.
-- One definition for checkout, replays and the order routes.
CREATE OR REPLACE FUNCTION public.order_document(order_id uuid, currency text)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
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
"""
