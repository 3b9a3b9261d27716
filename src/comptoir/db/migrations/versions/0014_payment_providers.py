"""Payments a provider drives: one payment per order, its refund, and events of every kind.

Revision ID: 0014
Revises: 0012 (re-chained onto 0013 at merge)
Create Date: 2026-11-25

`payments` is the order's payment at its provider (Stripe, or the provider-neutral signed
webhook): the provider's intent id, the client secret the storefront needs while the order
is payable, the status Comptoir last learned, and the refund an admin's cancellation asked
for. One row per order (its primary key): a provider call derived from the order (Stripe's
idempotency key) can never make a second payment.

`payment_events` now records every provider event Comptoir applies, not only the neutral
webhook's `succeeded`/`failed`: the provider, the provider's event type, and the new
outcomes and results (cancellations, refunds). Events recorded before this revision came
from the neutral webhook: `type` is `payment.<outcome>`.

With row-level security on, a customer reads their orders' payment and events (what the
order document shows them); only the back office's role writes them.

Downgrade: the new kinds of events (cancellations, refunds) and the payments go; the old
`order_document()` comes back first, since it reads `document_payment()`.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_OUTCOMES = "'succeeded', 'failed'"
OLD_RESULTS = (
    "'paid', 'already_paid', 'payment_failed', 'order_cancelled', 'order_not_payable',"
    " 'unknown_order', 'intent_mismatch', 'amount_mismatch'"
)
NEW_OUTCOMES = "'canceled', 'refund_pending', 'refund_succeeded', 'refund_failed'"
NEW_RESULTS = "'canceled', 'refund_pending', 'refund_succeeded', 'refund_failed'"

# order_document() as revision 0012's file had it (a database below the head has the
# functions its revisions made: comptoir/db/repeatable.py).
ORDER_DOCUMENT_0012 = """
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
            WHERE oi.order_id = o.id), '[]'::jsonb))
    FROM orders AS o WHERE o.id = order_document.order_id);
"""


def upgrade() -> None:
    run_sql(f"""
    CREATE TABLE payments (
        order_id      uuid PRIMARY KEY REFERENCES orders (id) ON DELETE RESTRICT,
        provider      text NOT NULL CHECK (provider IN ('stripe', 'webhook')),
        status        text NOT NULL DEFAULT 'requires_payment'
                      CHECK (status IN ('requires_payment', 'succeeded', 'failed', 'canceled',
                                        'mismatch')),
        -- NULL until the provider answered the creation (it may be down: the order waits).
        intent_id     text UNIQUE,
        client_secret text,
        amount        numeric(12, 2) NOT NULL CHECK (amount >= 0),
        currency      text NOT NULL CHECK (currency ~ '^[A-Z]{{3}}$'),
        refund_status text CHECK (refund_status IN ('pending', 'succeeded', 'failed')),
        refund_amount numeric(12, 2) CHECK (refund_amount >= 0),
        refund_id     text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CHECK ((refund_status IS NULL) = (refund_amount IS NULL))
    );
    CREATE TRIGGER payments_set_updated_at BEFORE UPDATE ON payments
        FOR EACH ROW EXECUTE FUNCTION set_updated_at();
    -- `comptoir payments reconcile` and the sweeper: payments still open, or refunds owed.
    CREATE INDEX payments_open_idx ON payments (created_at)
        WHERE status IN ('requires_payment', 'failed') OR refund_status = 'pending';

    ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
    CREATE POLICY payments_of_staff ON payments TO comptoir_staff USING (true);
    CREATE POLICY payments_of_user ON payments FOR SELECT
        USING (EXISTS (SELECT FROM orders WHERE orders.id = payments.order_id));
    CREATE POLICY payment_events_of_user ON payment_events FOR SELECT
        USING (EXISTS (SELECT FROM orders WHERE orders.id = payment_events.order_id));

    ALTER TABLE payment_events
        ADD COLUMN provider text NOT NULL DEFAULT 'webhook'
            CHECK (provider IN ('stripe', 'webhook')),
        ADD COLUMN type text,
        DROP CONSTRAINT payment_events_outcome_check,
        ADD CONSTRAINT payment_events_outcome_check
            CHECK (outcome IN ({OLD_OUTCOMES}, {NEW_OUTCOMES})),
        DROP CONSTRAINT payment_events_result_check,
        ADD CONSTRAINT payment_events_result_check
            CHECK (result IN ({OLD_RESULTS}, {NEW_RESULTS}));
    UPDATE payment_events SET type = 'payment.' || outcome;
    ALTER TABLE payment_events ALTER COLUMN type SET NOT NULL;

    SELECT grant_app_privileges();
    """)


def downgrade() -> None:
    run_sql(ORDER_DOCUMENT_0012)
    run_sql(f"""
    DROP FUNCTION IF EXISTS document_payment(uuid, boolean);
    DELETE FROM payment_events WHERE outcome IN ({NEW_OUTCOMES});
    ALTER TABLE payment_events
        DROP CONSTRAINT payment_events_result_check,
        ADD CONSTRAINT payment_events_result_check CHECK (result IN ({OLD_RESULTS})),
        DROP CONSTRAINT payment_events_outcome_check,
        ADD CONSTRAINT payment_events_outcome_check CHECK (outcome IN ({OLD_OUTCOMES})),
        DROP COLUMN type,
        DROP COLUMN provider;
    DROP POLICY payment_events_of_user ON payment_events;
    DROP TABLE payments;
    """)
