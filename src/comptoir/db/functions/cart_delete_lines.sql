-- DELETE /v1/cart/items/{id} (a product) and DELETE /v1/cart (product NULL: every line).
-- The cart row's lock first, as checkout takes it: a removal waits for a running checkout
-- of this cart, then finds the lines it ordered gone.
CREATE OR REPLACE FUNCTION public.cart_delete_lines(buyer uuid, product uuid)
 RETURNS void
 LANGUAGE plpgsql
AS $$
DECLARE
    the_cart uuid;
BEGIN
    PERFORM set_config('comptoir.user_id', buyer::text, true);
    SELECT c.id INTO the_cart FROM carts AS c WHERE c.user_id = buyer FOR UPDATE;
    DELETE FROM cart_items AS ci
    WHERE ci.cart_id = the_cart AND (product IS NULL OR ci.product_id = product);
END
$$;
