-- A row trigger on name and attribute changes only, so that checkout's stock updates never pay for it.
CREATE OR REPLACE FUNCTION public.record_renamed_product_words()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    BEGIN
        INSERT INTO product_words (spelling, word)
        SELECT DISTINCT s, fold(s)
        FROM name_spellings(concat_ws(' ', NEW.name, product_tags(NEW.attributes))) AS s
        ON CONFLICT (spelling) DO NOTHING;
        RETURN NULL;
    END
    $$;
