-- catalog_counts.visible_products follows the products on sale (active, not deleted), so
-- that the catalog's count of its whole visible range reads one row instead of up to 1,001
-- index entries per page (revision 0018). Statement-level for inserts and deletes (an
-- import's COPY moves the count once), row-level for the updates of `active` and
-- `deleted_at` (a statement-level trigger with transition tables cannot name columns, and
-- would fire on every stock update of every checkout).
CREATE OR REPLACE FUNCTION public.count_visible_products()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
DECLARE
    delta bigint := 0;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE catalog_counts SET visible_products = 0;
        RETURN NULL;
    END IF;
    IF TG_LEVEL = 'ROW' THEN
        delta := (NEW.active AND NEW.deleted_at IS NULL)::int
                 - (OLD.active AND OLD.deleted_at IS NULL)::int;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO delta FROM new_rows WHERE active AND deleted_at IS NULL;
    ELSE
        SELECT -count(*) INTO delta FROM old_rows WHERE active AND deleted_at IS NULL;
    END IF;
    IF delta <> 0 THEN
        UPDATE catalog_counts SET visible_products = visible_products + delta;
    END IF;
    RETURN NULL;
END
$$;
