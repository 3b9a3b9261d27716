-- An order's payment as the order document shows it (docs/payments.md, "Reading a payment"):
-- to its customer what they need (the status, the refund, the client secret Stripe.js takes
-- while the order can be paid, and when each event came); to the back office (`staff`)
-- everything, the provider's ids and each event's result included.
-- Named so that its file is applied before order_document.sql, which calls it.
CREATE OR REPLACE FUNCTION public.document_payment(order_id uuid, staff boolean)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
RETURN (
    SELECT jsonb_build_object(
        'provider', p.provider,
        'status', coalesce(p.status, 'none'),
        'refund', CASE WHEN p.refund_status IS NOT NULL THEN jsonb_build_object(
            'status', p.refund_status, 'amount', p.refund_amount::text) END,
        'client_secret', CASE WHEN o.status = 'pending'
            AND p.status IN ('requires_payment', 'failed') THEN p.client_secret END,
        'events', coalesce((
            SELECT jsonb_agg(CASE WHEN staff THEN jsonb_build_object(
                    'type', e.type, 'received_at', e.received_at, 'event_id', e.event_id,
                    'provider', e.provider, 'result', e.result,
                    'payment_intent_id', e.payment_intent_id, 'amount', e.amount::text,
                    'currency', e.currency)
                ELSE jsonb_build_object('type', e.type, 'received_at', e.received_at) END
                ORDER BY e.received_at, e.event_id)
            FROM payment_events AS e WHERE e.order_id = o.id), '[]'::jsonb))
        || CASE WHEN staff THEN jsonb_build_object(
            'payment_intent_id', p.intent_id, 'refund_id', p.refund_id,
            'amount', p.amount::text, 'currency', p.currency) ELSE '{}'::jsonb END
    FROM orders AS o LEFT JOIN payments AS p ON p.order_id = o.id
    WHERE o.id = document_payment.order_id);
