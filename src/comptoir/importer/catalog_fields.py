"""Images and SKU from the legacy fields the import kept in `attributes`.

The import keeps every product field without a column in `attributes` (records.product);
FILL (queries.py sends it) fills the catalog's `images` and `sku` columns from the ones it
recognises, after the products are written, in one set-based statement over the products
of this import:

- images: fields named images, image, imageUrl(s), picture(s), photo(s) (any case), each a
  URL, a list of URLs, or objects with `url` or `src`; http(s) URLs only (a relative path
  means nothing outside the old shop), in field then list order, 20 at most;
- sku: a field named sku (any case), text or number. A SKU another product holds already
  (whatever the case), or that two imported products share, is left in `attributes` only,
  on every product but the first by id: an import never fails on a duplicate.

Only products whose images and SKU are still empty are filled, so that a re-import never
overwrites what the back office set since. The fields stay in `attributes` as they were.
"""

FILL = r"""
WITH fields AS (
    SELECT p.id,
        ARRAY(
            SELECT m.url
            FROM jsonb_each(p.attributes) AS a (k, v)
            CROSS JOIN LATERAL jsonb_array_elements(
                CASE jsonb_typeof(a.v) WHEN 'array' THEN a.v ELSE jsonb_build_array(a.v) END
            ) WITH ORDINALITY AS e (x, n)
            CROSS JOIN LATERAL (SELECT CASE jsonb_typeof(e.x)
                WHEN 'string' THEN e.x #>> '{}'
                WHEN 'object' THEN coalesce(e.x ->> 'url', e.x ->> 'src') END AS url) AS m
            WHERE lower(a.k) IN ('images', 'image', 'imageurl', 'imageurls', 'pictures',
                                 'picture', 'photos', 'photo')
              AND m.url ~ '^https?://[^\s/?#]+\S*$' AND length(m.url) <= 2000
            ORDER BY a.k, e.n
            LIMIT 20) AS images,
        (SELECT btrim(a.v #>> '{}') FROM jsonb_each(p.attributes) AS a (k, v)
         WHERE lower(a.k) = 'sku' AND jsonb_typeof(a.v) IN ('string', 'number')
           AND length(btrim(a.v #>> '{}')) BETWEEN 1 AND 64
         ORDER BY a.k LIMIT 1) AS sku
    FROM products AS p
    JOIN import_products AS s ON p.legacy_id = s.key
    WHERE p.images = '{}' AND p.sku IS NULL
), skus AS (
    SELECT DISTINCT ON (lower(f.sku)) f.id, f.sku
    FROM fields AS f
    WHERE f.sku IS NOT NULL
      AND NOT EXISTS (SELECT FROM products AS o WHERE lower(o.sku) = lower(f.sku))
    ORDER BY lower(f.sku), f.id
)
UPDATE products AS p SET images = f.images, sku = s.sku
FROM fields AS f LEFT JOIN skus AS s ON s.id = f.id
WHERE p.id = f.id AND (cardinality(f.images) > 0 OR s.sku IS NOT NULL)
"""
