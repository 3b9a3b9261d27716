"""Payment events carry the amount and currency paid; a mismatch has its own result.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25

A signed success event for 1 JPY marked a 28.80 EUR order paid (issue 14): the event said
nothing about what was paid. The provider now sends `amount` and `currency`; they are kept
on the event, and a success that does not match the order's total in the shop's currency is
recorded as `amount_mismatch`, the order left unpaid. Events recorded before this revision
have neither (NULL).

Downgrade: the old result check does not know `amount_mismatch`; those events become
`order_not_payable` (the old "recorded, order untouched" result) and keep their amount and
currency in `payload`.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_RESULTS = (
    "'paid', 'already_paid', 'payment_failed', 'order_cancelled', 'order_not_payable',"
    " 'unknown_order', 'intent_mismatch'"
)


def upgrade() -> None:
    run_sql(f"""
    ALTER TABLE payment_events
        ADD COLUMN amount numeric(12, 2),
        ADD COLUMN currency text,
        ADD CONSTRAINT payment_events_currency_check CHECK (currency ~ '^[A-Z]{{3}}$'),
        DROP CONSTRAINT payment_events_result_check,
        ADD CONSTRAINT payment_events_result_check
            CHECK (result IN ({OLD_RESULTS}, 'amount_mismatch'));
    """)


def downgrade() -> None:
    run_sql(f"""
    UPDATE payment_events SET result = 'order_not_payable' WHERE result = 'amount_mismatch';
    ALTER TABLE payment_events
        DROP CONSTRAINT payment_events_result_check,
        ADD CONSTRAINT payment_events_result_check CHECK (result IN ({OLD_RESULTS})),
        DROP COLUMN currency,
        DROP COLUMN amount;
    """)
