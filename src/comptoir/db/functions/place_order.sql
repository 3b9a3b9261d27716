-- Checkout, the seed's section 4, as one statement (its notice mail included): one round trip, one transaction, so
-- that the products stay locked for as short a time as possible.
--   {"order": ...}                   the order was placed;
--   {"replay": ..., "status"}        this key already placed an order: its stored response;
--   {"key_reused": true}             this key was used for a different request;
--   {"empty": true}, {"short": [...]}, {"too_many_pending": n}, {"too_large": total}
--                                    refused: nothing written, the key left free.
-- A duplicate arriving while the first is in flight waits on the key's primary key, then
-- replays (first committed an order) or claims the key (first was refused).
CREATE OR REPLACE FUNCTION public.place_order(buyer uuid, idempotency_key text, request_fingerprint text, currency text, max_pending integer, shipping jsonb DEFAULT NULL::jsonb, billing jsonb DEFAULT NULL::jsonb)
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
        SELECT k.fingerprint, k.status_code, k.response, k.order_id INTO stored
        FROM idempotency_keys AS k WHERE k.user_id = buyer AND k.key = idempotency_key;
        IF stored.fingerprint <> request_fingerprint THEN
            RETURN '{"key_reused": true}'::jsonb;
        END IF;
        -- The order as it is now (cancelled, paid...), not as it was placed: a client that
        -- retries must not believe a cancelled order is still pending.
        RETURN jsonb_build_object(
            'replay', coalesce(order_document(stored.order_id, currency), stored.response),
            'status', stored.status_code);
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

    -- The addresses as validated by the API, copied onto the order: a later change of the
    -- customer's saved addresses never rewrites it.
    INSERT INTO orders (user_id, total_amount, shipping_address, billing_address)
    VALUES (buyer, total, shipping, billing) RETURNING id INTO new_id;

    INSERT INTO order_items (order_id, product_id, quantity, unit_price)
    SELECT new_id, l.product_id, l.quantity, p.price
    FROM unnest(products_, quantities) AS l (product_id, quantity)
    JOIN products AS p ON p.id = l.product_id;

    UPDATE products AS p SET stock = p.stock - l.quantity
    FROM unnest(products_, quantities) AS l (product_id, quantity)
    WHERE p.id = l.product_id;

    DELETE FROM cart_items AS ci WHERE ci.cart_id = the_cart AND ci.product_id = ANY (products_);

    -- The "order placed" mail, in the order's transaction: sent if and only if it commits
    -- (comptoir/mail/sender.py).
    INSERT INTO outbox_emails (kind, recipient, payload)
    SELECT 'order_placed', u.email::text,
           jsonb_build_object('order_id', new_id, 'total', total::text, 'currency', currency)
    FROM users AS u WHERE u.id = buyer;

    document := order_document(new_id, currency);
    UPDATE idempotency_keys AS k
    SET order_id = new_id, status_code = 201, response = document
    WHERE k.user_id = buyer AND k.key = idempotency_key;
    RETURN jsonb_build_object('order', document);
END
$$;
