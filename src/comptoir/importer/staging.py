"""The set-based half of the import: staging tables filled by COPY, then SQL that decides
everything that depends on other records, and writes the shop's tables.

Every statement runs inside the import's one transaction (see `run.py`); the staging
tables are temporary and go with it. New rows get UUIDs derived from the legacy ids
(`md5('<collection>:<id>')::uuid`), and every write is `ON CONFLICT DO NOTHING`, so that
running the same import again finds its rows and changes nothing.
"""

TABLES = """
CREATE TEMP TABLE import_users (
    ord int, key text, email text, password_hash text, role text, name text,
    created_at timestamptz, raw text, fp text) ON COMMIT DROP;
CREATE TEMP TABLE import_hashes (ord int, password_hash text) ON COMMIT DROP;
CREATE TEMP TABLE import_guests (ord int, email text, name text) ON COMMIT DROP;
CREATE TEMP TABLE import_products (
    ord int, key text, name text, description text, price numeric(12,2), stock int,
    active boolean, created_at timestamptz, deleted_at timestamptz, attributes jsonb, raw text,
    fp text) ON COMMIT DROP;
CREATE TEMP TABLE import_carts (
    ord int, user_key text, updated_at timestamptz, raw text, fp text) ON COMMIT DROP;
CREATE TEMP TABLE import_cart_lines (ord int, product_key text, quantity int) ON COMMIT DROP;
CREATE TEMP TABLE import_orders (
    ord int, key text, user_key text, status text, total numeric(12,2), stated numeric(12,2),
    payment_intent_id text, created_at timestamptz, raw text, fp text) ON COMMIT DROP;
CREATE TEMP TABLE import_order_lines (
    ord int, product_key text, quantity int, unit_price numeric(12,2)) ON COMMIT DROP;
CREATE TEMP TABLE import_leads (
    ord int, key text, name text, email text, message text, created_at timestamptz, raw text,
    fp text) ON COMMIT DROP;
CREATE TEMP TABLE import_analytics (
    ord int, key text, event_type text, user_key text, created_at timestamptz, raw jsonb)
    ON COMMIT DROP;
CREATE TEMP TABLE import_kept (collection text, ord int, raw text, fp text) ON COMMIT DROP;
CREATE TEMP TABLE import_rejects (collection text, ord int, reason text, raw text)
    ON COMMIT DROP;
"""

COLUMNS = {
    "users": ("ord", "key", "email", "password_hash", "role", "name", "created_at", "raw", "fp"),
    "guests": ("ord", "email", "name"),
    "products": (
        "ord", "key", "name", "description", "price", "stock", "active", "created_at",
        "deleted_at", "attributes", "raw", "fp",
    ),
    "carts": ("ord", "user_key", "updated_at", "raw", "fp"),
    "cart_lines": ("ord", "product_key", "quantity"),
    "orders": (
        "ord", "key", "user_key", "status", "total", "stated", "payment_intent_id",
        "created_at", "raw", "fp",
    ),
    "order_lines": ("ord", "product_key", "quantity", "unit_price"),
    "leads": ("ord", "key", "name", "email", "message", "created_at", "raw", "fp"),
    "analytics": ("ord", "key", "event_type", "user_key", "created_at", "raw"),
    "kept": ("collection", "ord", "raw", "fp"),
}  # fmt: skip

GUEST_ORD = 1_000_000_000  # guests rank after every record of users.json

# A guest order's account: one per email, staged like a user without a password and
# ranked after every registered record, so that a registered account of the same email
# (in the store or in the database) is the one kept and the guest's orders follow it.
GUESTS = f"""
INSERT INTO import_users (ord, key, email, password_hash, role, name, created_at, raw, fp)
SELECT {GUEST_ORD} + row_number() OVER (ORDER BY email), 'guest:' || email, email, NULL,
       'customer', max(name), NULL, NULL, NULL
FROM import_guests GROUP BY email
"""

# Later records with an id already seen in the same file are rejected; the first is kept.
DUPLICATE_IDS = """
WITH firsts AS (
    SELECT key, min(ord) AS ord FROM import_{collection}
    WHERE key IS NOT NULL GROUP BY key HAVING count(*) > 1),
later AS (
    DELETE FROM import_{collection} s USING firsts f
    WHERE s.key = f.key AND s.ord > f.ord
    RETURNING s.ord, s.raw)
INSERT INTO import_rejects SELECT '{collection}', ord, 'duplicate id', raw::text FROM later
"""

# A user's record unchanged since the last import (the same fingerprint, so the same
# password) takes the hash its account holds instead of a new one: the account is
# unchanged, and the hash only tells the user map that the record has a password. Hashing
# again would cost a cutover as long as the rehearsal for a store of plain-text passwords.
UNCHANGED_HASHES = """
UPDATE import_users s SET password_hash = u.password_hash
FROM import_sources src JOIN users u ON u.id = src.row_id
WHERE s.ord = ANY($1::int[])
  AND src.collection = 'users' AND src.legacy_id = s.key AND src.fingerprint = s.fp
  AND u.password_hash IS NOT NULL
RETURNING s.ord
"""

# Passwords are hashed after the users' rows are written, while PostgreSQL works alone on
# the events (argon2id takes a core for a tenth of a second a password): until then a
# record to hash carries a placeholder, which is not a hash of anything, so no password
# can match it, and which is not NULL, so that the user map knows the record has one.
PENDING = "!hash pending:"
# What a cutover compares an account with (cutover.py): its fields as the import wrote them.
USERS_ROW_FINGERPRINT = "md5(concat_ws('|', t.email, t.password_hash, t.role, t.name))"

PENDING_HASHES = f"""
UPDATE import_users SET password_hash = '{PENDING}' || ord WHERE ord = ANY($1::int[])
"""

HASHES = """
UPDATE import_users u SET password_hash = h.password_hash
FROM import_hashes h WHERE h.ord = u.ord
"""

# The accounts written with a placeholder (new ones, and those the cutover updated) take
# their hash, and the fingerprint the next cutover compares them with is taken again.
HASHES_INTO_ACCOUNTS = f"""
WITH hashed AS (
    UPDATE users u SET password_hash = h.password_hash
    FROM import_hashes h
    WHERE u.id IN (SELECT user_id FROM import_user_map)
      AND u.password_hash = '{PENDING}' || h.ord
    RETURNING u.*)
UPDATE import_sources src SET row_fingerprint = {USERS_ROW_FINGERPRINT}
FROM hashed t
WHERE src.collection = 'users' AND src.row_id = t.id
"""

# Accounts whose emails differ only by case or spaces are one person: the oldest record
# (or an account already in the database with that email) is kept, and every record maps
# to it, so that carts, orders and events follow the merge. The kept account's password is
# its own, else the oldest one among the records merged into it.
USER_MAP = """
CREATE TEMP TABLE import_user_map ON COMMIT DROP AS
WITH grouped AS (
    SELECT u.ord, u.key, u.email,
           first_value(u.ord) OVER by_age AS canonical_ord,
           first_value(u.password_hash) OVER (
               PARTITION BY u.email
               ORDER BY u.password_hash IS NULL, u.created_at NULLS LAST, u.ord
           ) AS password_hash
    FROM import_users u
    WINDOW by_age AS (PARTITION BY u.email ORDER BY u.created_at NULLS LAST, u.ord))
SELECT g.ord, g.key, g.canonical_ord, g.ord = g.canonical_ord AS canonical, g.password_hash,
       COALESCE(existing.id, md5('user:' || c.key)::uuid) AS user_id,
       existing.id IS NOT NULL AND existing.id <> md5('user:' || c.key)::uuid
           AS into_existing
FROM grouped g
JOIN import_users c ON c.ord = g.canonical_ord
LEFT JOIN users existing ON existing.email = c.email::citext;
CREATE INDEX ON import_user_map (key);
ANALYZE import_user_map;
"""

INSERT_USERS = """
INSERT INTO users (id, email, password_hash, role, name, created_at, updated_at, legacy_id)
SELECT m.user_id, u.email, m.password_hash, u.role::user_role, u.name,
       COALESCE(u.created_at, now()), COALESCE(u.created_at, now()), u.key
FROM import_user_map m JOIN import_users u ON u.ord = m.ord
WHERE m.canonical AND NOT m.into_existing
ON CONFLICT DO NOTHING
"""

INSERT_PRODUCTS = """
INSERT INTO products (id, name, description, price, stock, active, created_at, updated_at,
                      deleted_at, legacy_id, attributes)
SELECT md5('product:' || key)::uuid, name, description, price, stock, active,
       COALESCE(created_at, now()), COALESCE(created_at, now()), deleted_at, key, attributes
FROM import_products
ON CONFLICT DO NOTHING
"""

UNKNOWN_USERS = """
WITH orphans AS (
    DELETE FROM import_{collection} s
    WHERE NOT EXISTS (SELECT FROM import_user_map m WHERE m.key = s.user_key)
    RETURNING s.ord, s.raw)
INSERT INTO import_rejects SELECT '{collection}', ord, 'unknown user', raw FROM orphans
"""

# One cart per person: carts of merged accounts (or two carts of one user) become one,
# quantities summed. Lines naming products that do not exist are dropped.
CART_OWNERS = """
CREATE TEMP TABLE import_cart_owners ON COMMIT DROP AS
SELECT c.ord, m.user_id, c.updated_at,
       row_number() OVER (PARTITION BY m.user_id ORDER BY c.updated_at DESC NULLS LAST, c.ord)
           AS rank
FROM import_carts c JOIN import_user_map m ON m.key = c.user_key
"""

INSERT_CARTS = """
INSERT INTO carts (id, user_id, created_at, updated_at)
SELECT md5('cart:' || user_id)::uuid, user_id, COALESCE(max(updated_at), now()),
       COALESCE(max(updated_at), now())
FROM import_cart_owners GROUP BY user_id
ON CONFLICT DO NOTHING
"""

UNKNOWN_CART_PRODUCTS = """
SELECT count(*) FROM import_cart_lines l
WHERE NOT EXISTS (SELECT FROM products p WHERE p.id = md5('product:' || l.product_key)::uuid)
"""

INSERT_CART_ITEMS = """
INSERT INTO cart_items (cart_id, product_id, quantity, created_at, updated_at)
SELECT carts.id, p.id, LEAST(sum(l.quantity), 2147483647),
       COALESCE(max(o.updated_at), now()), COALESCE(max(o.updated_at), now())
FROM import_cart_lines l
JOIN import_cart_owners o ON o.ord = l.ord
JOIN carts ON carts.user_id = o.user_id
JOIN products p ON p.id = md5('product:' || l.product_key)::uuid
GROUP BY carts.id, p.id
ON CONFLICT DO NOTHING
"""

# A payment intent pays one order: of two orders naming it, the later is rejected, and so
# is one naming an intent that an order already in the database holds.
REUSED_INTENTS = """
WITH ranked AS (
    SELECT ord, row_number() OVER (
        PARTITION BY payment_intent_id ORDER BY created_at, ord) AS rank
    FROM import_orders WHERE payment_intent_id IS NOT NULL),
reused AS (
    DELETE FROM import_orders s
    USING ranked r
    WHERE r.ord = s.ord AND (r.rank > 1 OR EXISTS (
        SELECT FROM orders o
        WHERE o.payment_intent_id = s.payment_intent_id
          AND o.id <> md5('order:' || s.key)::uuid))
    RETURNING s.ord, s.raw)
INSERT INTO import_rejects
SELECT 'orders', ord, 'payment intent already used by another order', raw FROM reused
"""

# Orders keep their history whole: a product they name that products.json lacks comes
# back as an inactive, soft-deleted placeholder at the price it was sold at.
INSERT_PLACEHOLDERS = """
INSERT INTO products (id, name, description, price, stock, active, created_at, updated_at,
                      deleted_at, legacy_id)
SELECT DISTINCT ON (l.product_key)
       md5('product:' || l.product_key)::uuid, 'Legacy product ' || l.product_key,
       'Named by imported orders, missing from the legacy products.', l.unit_price, 0, false,
       COALESCE(o.created_at, now()), COALESCE(o.created_at, now()),
       COALESCE(o.created_at, now()), l.product_key
FROM import_order_lines l JOIN import_orders o ON o.ord = l.ord
WHERE NOT EXISTS (SELECT FROM products p WHERE p.id = md5('product:' || l.product_key)::uuid)
ORDER BY l.product_key, o.created_at, o.ord
ON CONFLICT DO NOTHING
"""

INSERT_ORDERS = """
INSERT INTO orders (id, user_id, status, total_amount, payment_intent_id, created_at,
                    updated_at, legacy_id)
SELECT md5('order:' || s.key)::uuid, m.user_id, s.status::order_status, s.total,
       s.payment_intent_id, COALESCE(s.created_at, now()), COALESCE(s.created_at, now()), s.key
FROM import_orders s JOIN import_user_map m ON m.key = s.user_key
ON CONFLICT DO NOTHING
"""

INSERT_ORDER_ITEMS = """
INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
SELECT md5('order-item:' || s.key || ':' || l.product_key)::uuid, md5('order:' || s.key)::uuid,
       md5('product:' || l.product_key)::uuid, l.quantity, l.unit_price
FROM import_order_lines l JOIN import_orders s ON s.ord = l.ord
ON CONFLICT DO NOTHING
"""

LEAD_ID = "md5('lead:' || COALESCE('id:' || key, 'at:' || ord))::uuid"

INSERT_LEADS = f"""
INSERT INTO leads (id, name, email, message, created_at, legacy_id)
SELECT {LEAD_ID}, name, email, message, COALESCE(created_at, now()), key
FROM import_leads
ON CONFLICT DO NOTHING
"""

# What the database holds afterwards for the records kept, counted from the shop's tables.
FOUND = {
    "users": f"""SELECT count(*) FROM users WHERE id IN (
        SELECT user_id FROM import_user_map
        WHERE canonical AND NOT into_existing AND ord < {GUEST_ORD})""",
    "products": """SELECT count(*) FROM products
        WHERE id IN (SELECT md5('product:' || key)::uuid FROM import_products)""",
    "carts": """SELECT count(*) FROM carts
        WHERE user_id IN (SELECT user_id FROM import_cart_owners WHERE rank = 1)""",
    "orders": """SELECT count(*) FROM orders
        WHERE id IN (SELECT md5('order:' || key)::uuid FROM import_orders)""",
    "leads": f"SELECT count(*) FROM leads WHERE id IN (SELECT {LEAD_ID} FROM import_leads)",
}

ORDER_TOTALS = """
SELECT (SELECT sum(stated) FROM import_orders) AS stated,
       (SELECT sum(total) FROM import_orders) AS lines,
       (SELECT sum(total_amount) FROM orders
        WHERE id IN (SELECT md5('order:' || key)::uuid FROM import_orders)) AS stored
"""

USER_OUTCOMES = f"""
SELECT count(*) FILTER (WHERE canonical AND NOT into_existing AND ord < {GUEST_ORD})
           AS imported,
       count(*) FILTER (WHERE (NOT canonical OR into_existing) AND ord < {GUEST_ORD}) AS merged,
       count(*) FILTER (WHERE canonical AND NOT into_existing AND ord >= {GUEST_ORD}) AS guests
FROM import_user_map
"""

# Lines that name a product without a price (the store kept only a total, or only ids)
# are sold at the product's price; an order with a line priced by neither is rejected.
PRICE_LINES = """
UPDATE import_order_lines l SET unit_price = p.price
FROM products p
WHERE l.unit_price IS NULL AND p.id = md5('product:' || l.product_key)::uuid
"""

UNPRICED_ORDERS = """
WITH unpriced AS (
    DELETE FROM import_orders s
    WHERE EXISTS (SELECT FROM import_order_lines l WHERE l.ord = s.ord AND l.unit_price IS NULL)
    RETURNING s.ord, s.raw)
INSERT INTO import_rejects
SELECT 'orders', ord, 'a line without a price, for a product the store does not have', raw
FROM unpriced
"""

# Lines win over a stated total; orders whose stated total differs are counted.
ORDER_TOTALS_FROM_LINES = """
WITH sums AS (
    SELECT ord, sum(quantity * unit_price) AS total FROM import_order_lines GROUP BY ord)
UPDATE import_orders s SET total = sums.total FROM sums WHERE sums.ord = s.ord
"""

TOTALS_DIFFERING = "SELECT count(*) FROM import_orders WHERE stated IS DISTINCT FROM total"

ACCOUNTS_WITHOUT_LOGIN = """
SELECT u.email FROM import_user_map m JOIN import_users u ON u.ord = m.ord
WHERE m.canonical AND NOT m.into_existing AND m.password_hash IS NULL
ORDER BY u.email
"""

CART_OUTCOMES = """
SELECT count(*) FILTER (WHERE rank = 1) AS imported, count(*) FILTER (WHERE rank > 1) AS merged
FROM import_cart_owners
"""

REJECTS = "SELECT collection, reason, raw FROM import_rejects ORDER BY collection, ord"


def inserted(status: str) -> int:
    """Rows written, from a command tag such as "INSERT 0 42"."""
    return int(status.rsplit(" ", 1)[-1])
