-- GET /v1/cart: the customer's cart as the API shows it. Totals at current prices,
-- computed by the database; a line whose product was deleted or deactivated since it was
-- added is shown as unavailable and left out of the total.
CREATE OR REPLACE FUNCTION public.cart_json(buyer uuid, currency text)
 RETURNS json
 LANGUAGE plpgsql
AS $$
    BEGIN
        PERFORM set_config('comptoir.user_id', buyer::text, true);
        RETURN (
            SELECT json_build_object(
                'items', coalesce(json_agg(json_build_object(
                    'product_id', p.id,
                    'name', p.name,
                    'unit_price', p.price::text,
                    'quantity', ci.quantity,
                    'line_total', CASE WHEN p.active AND p.deleted_at IS NULL
                                       THEN (p.price * ci.quantity)::text END,
                    'available', p.active AND p.deleted_at IS NULL,
                    'in_stock', p.stock >= ci.quantity
                ) ORDER BY ci.created_at, p.id) FILTER (WHERE ci.id IS NOT NULL), '[]'::json),
                'total', coalesce(sum(p.price * ci.quantity)
                                  FILTER (WHERE p.active AND p.deleted_at IS NULL), 0.00)::text,
                'currency', currency)
            FROM carts AS c
            JOIN cart_items AS ci ON ci.cart_id = c.id
            JOIN products AS p ON p.id = ci.product_id
            WHERE c.user_id = buyer);
    END
    $$;
