-- Keeps updated_at honest whatever code path writes the row.
CREATE OR REPLACE FUNCTION public.set_updated_at()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    BEGIN
        NEW.updated_at := now();
        RETURN NEW;
    END
    $$;
