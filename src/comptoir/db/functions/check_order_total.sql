-- The order total is the sum of its lines, checked by the database at commit: a
-- deferred constraint trigger, so that an order and its lines can be written in any
-- order within a transaction.
CREATE OR REPLACE FUNCTION public.check_order_total()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    DECLARE
        checked uuid;
        expected numeric;
        actual numeric;
    BEGIN
        IF TG_TABLE_NAME = 'orders' THEN
            checked := NEW.id;
        ELSIF TG_OP = 'DELETE' THEN
            checked := OLD.order_id;
        ELSE
            checked := NEW.order_id;
        END IF;
        SELECT o.total_amount INTO expected FROM orders AS o WHERE o.id = checked;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        SELECT coalesce(sum(oi.unit_price * oi.quantity), 0) INTO actual
        FROM order_items AS oi WHERE oi.order_id = checked;
        IF expected <> actual THEN
            RAISE EXCEPTION 'order % total % is not the sum of its lines (%)',
                checked, expected, actual
                USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_total_is_sum_of_lines';
        END IF;
        RETURN NULL;
    END
    $$;
