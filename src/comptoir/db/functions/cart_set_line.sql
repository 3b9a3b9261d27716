-- PUT /v1/cart/items/{id}: set how many of a product the cart holds, and return the
-- cart. `stock_left` is NULL for an unknown, deleted or inactive product; `written` says
-- whether the line was set (false when the stock does not cover the quantity). A
-- refusal writes nothing, not even the cart.
CREATE OR REPLACE FUNCTION public.cart_set_line(buyer uuid, product uuid, wanted integer, currency text, OUT stock_left integer, OUT written boolean, OUT cart json)
 RETURNS record
 LANGUAGE plpgsql
AS $$
    DECLARE
        the_cart uuid;
    BEGIN
        PERFORM set_config('comptoir.user_id', buyer::text, true);
        written := false;
        SELECT p.stock INTO stock_left
        FROM products AS p WHERE p.id = product AND p.active AND p.deleted_at IS NULL;
        IF stock_left IS NULL OR stock_left < wanted THEN
            RETURN;
        END IF;
        -- The cart on first use: an upsert on carts(user_id), so that two first requests
        -- at once make one cart.
        INSERT INTO carts AS c (user_id) VALUES (buyer)
        ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
        RETURNING c.id INTO the_cart;
        -- A statement of its own: under RLS the line's check reads the customer's cart, and
        -- a statement cannot see rows its own CTE inserted (one statement with both failed
        -- for a new cart). The next statement sees the cart this one wrote.
        INSERT INTO cart_items AS ci (cart_id, product_id, quantity)
        VALUES (the_cart, product, wanted)
        ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity;
        written := true;
        cart := cart_json(buyer, currency);
    END
    $$;
