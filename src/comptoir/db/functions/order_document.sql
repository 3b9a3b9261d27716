-- An order as the API shows it: lines with the product's current name and the price paid,
-- and the addresses as they were at checkout, and its payment as its customer sees it.
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
        'shipping_address', o.shipping_address, 'billing_address', o.billing_address,
        'items', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                'product_id', oi.product_id, 'name', p.name, 'quantity', oi.quantity,
                'unit_price', oi.unit_price::text,
                'line_total', (oi.unit_price * oi.quantity)::text) ORDER BY p.name, oi.id)
            FROM order_items AS oi JOIN products AS p ON p.id = oi.product_id
            WHERE oi.order_id = o.id), '[]'::jsonb),
        'payment', document_payment(o.id, false))
    FROM orders AS o WHERE o.id = order_document.order_id);
