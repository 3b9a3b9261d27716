-- Checkout with RLS on: the buyer's context and place_order() in one statement, so that
-- checkout stays one round trip and its product locks last no longer than without RLS.
CREATE OR REPLACE FUNCTION public.place_order_as_buyer(buyer uuid, idempotency_key text, request_fingerprint text, currency text, max_pending integer, shipping jsonb DEFAULT NULL::jsonb, billing jsonb DEFAULT NULL::jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM set_config('comptoir.user_id', buyer::text, true);
    RETURN place_order(buyer, idempotency_key, request_fingerprint, currency, max_pending,
                       shipping, billing);
END
$$;
