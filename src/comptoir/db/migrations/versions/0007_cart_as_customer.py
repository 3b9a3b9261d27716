"""The cart's statements as functions that say whom they serve: one round trip per request.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

With COMPTOIR_RLS=on a customer request used to pay two round trips more than without: the
`BEGIN` + `set_config(...)` batch before its statement and the `COMMIT` after it. On the
2-core machine those round trips, not the policies, were the cost (bench/README.md, "RLS").
Checkout already avoided them (`place_order_as_buyer()`, 0006); the cart gets the same
treatment here. Each function takes the customer the app authenticated, sets
`comptoir.user_id` to it for the transaction (`set_config(..., true)`, what the app would
have said itself) and then runs the request's SQL. Called on its own (autocommit), the
function's statement is its transaction: the setting ends with it, one round trip in all.

The app calls these functions in both modes: with RLS off the owner is not subject to the
policies and the setting is harmless, so the API runs the same SQL either way, written once.
They are SECURITY INVOKER (the default): every statement inside still passes the policies as
the caller, and the customer filters stay written out, as without RLS. Like the app, a
function trusts the id it is given: the policies guard against a query that forgets its
filter, not against an app that lies about whom it serves.

plpgsql rather than SQL functions: plpgsql keeps its statements' plans for the session
(a SQL function's body is planned again in each transaction before PostgreSQL 18), and it
runs its statements in order, each seeing what the previous ones wrote (the line's check
under RLS needs the cart created before it: see `cart_set_line`).
"""

from comptoir.db.migrations.sql import run_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    -- GET /v1/cart: the customer's cart as the API shows it. Totals at current prices,
    -- computed by the database; a line whose product was deleted or deactivated since it was
    -- added is shown as unavailable and left out of the total.
    CREATE FUNCTION cart_json(buyer uuid, currency text) RETURNS json
    LANGUAGE plpgsql AS $$
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

    -- PUT /v1/cart/items/{id}: set how many of a product the cart holds, and return the
    -- cart. `stock_left` is NULL for an unknown, deleted or inactive product; `written` says
    -- whether the line was set (false when the stock does not cover the quantity). A
    -- refusal writes nothing, not even the cart.
    CREATE FUNCTION cart_set_line(
        buyer uuid, product uuid, wanted integer, currency text,
        OUT stock_left integer, OUT written boolean, OUT cart json
    )
    LANGUAGE plpgsql AS $$
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

    -- DELETE /v1/cart/items/{id} (a product) and DELETE /v1/cart (product NULL: every line).
    CREATE FUNCTION cart_delete_lines(buyer uuid, product uuid) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM set_config('comptoir.user_id', buyer::text, true);
        DELETE FROM cart_items AS ci USING carts AS c
        WHERE c.user_id = buyer AND ci.cart_id = c.id
          AND (product IS NULL OR ci.product_id = product);
    END
    $$;
    """)


def downgrade() -> None:
    run_sql("""
    DROP FUNCTION cart_delete_lines(uuid, uuid);
    DROP FUNCTION cart_set_line(uuid, uuid, integer, text);
    DROP FUNCTION cart_json(uuid, text);
    """)
