-- The search vocabulary (product_words) learns the words of new products (name, brand and
-- categories: product_tags()), folded as the search folds its query; statement-level, one
-- insert per statement.
CREATE OR REPLACE FUNCTION public.record_product_words()
 RETURNS trigger
 LANGUAGE plpgsql
AS $$
    BEGIN
        INSERT INTO product_words (spelling, word)
        SELECT DISTINCT s, fold(s)
        FROM new_rows,
             name_spellings(concat_ws(' ', new_rows.name, product_tags(new_rows.attributes))) AS s
        ON CONFLICT (spelling) DO NOTHING;
        RETURN NULL;
    END
    $$;
