"""Each of the seed's ten indexes serves the query it exists for.

The module fills the tables once with enough varied rows that a sequential scan is a real
option, vacuums and analyzes them as autovacuum would, and each test reads the index's name
in the plan of the query the index exists for. The rows are removed after the module.
"""

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

FILL = """
INSERT INTO users (email, password_hash)
SELECT 'user' || i || '@example.com', 'x' FROM generate_series(1, 5000) AS i;

-- Names built from words, as a real catalog's are, plus a few rare ones.
INSERT INTO products (name, price, stock, active, created_at, deleted_at)
SELECT (ARRAY['Chaussure', 'Veste', 'Sac', 'Montre', 'Chemise', 'Écharpe', 'Lampe', 'Tapis',
              'Bottine', 'Pull', 'Ceinture'])[1 + i % 11]
       || ' ' || (ARRAY['en cuir', 'en lin', 'en laine', 'en coton', 'de voyage', 'de soirée',
                        'classique', 'sport', 'vintage'])[1 + (i / 11) % 9]
       || ' ' || (ARRAY['rouge', 'bleu', 'noir', 'vert', 'camel', 'gris', 'blanc',
                        'bordeaux'])[1 + (i / 99) % 8]
       || ' ' || (ARRAY['Atelier', 'Maison', 'Studio', 'Comptoir', 'Nord',
                        'Riviera'])[1 + (i / 792) % 6]
       || ' ' || (i % 997),
       (i % 500) + 0.99, i % 40, i % 10 <> 0,
       now() - make_interval(mins => i),
       CASE WHEN i % 13 = 0 THEN now() END
FROM generate_series(1, 20000) AS i;
INSERT INTO products (name, price) VALUES
    ('Théière japonaise en fonte', 49.00), ('Tasse japonaise', 12.00),
    ('Bol japonais en grès', 18.50);

INSERT INTO carts (user_id) SELECT id FROM users;
INSERT INTO cart_items (cart_id, product_id, quantity)
SELECT c.id, p.id, 1
FROM carts AS c
CROSS JOIN generate_series(0, 3) AS k
JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM products) AS p
  -- bigint: a hash near 2^31 plus k * 997 would overflow int4 (about one run in a hundred).
  ON p.n = 1 + (abs(hashtext(c.id::text)::bigint) + k * 997) % 20000;

INSERT INTO orders (user_id, status, total_amount, created_at)
SELECT u.id,
       (ARRAY['pending', 'paid', 'shipped', 'cancelled']::order_status[])[1 + (g + u.n) % 4],
       0, now() - make_interval(hours => (g * 7 + u.n)::int)
FROM (SELECT id, row_number() OVER () AS n FROM users) AS u
CROSS JOIN generate_series(1, 4) AS g;

INSERT INTO leads (name, email, message, created_at)
SELECT 'Lead ' || i, 'lead' || (i % 3000) || '@example.com', 'Bonjour, ' || md5(i::text),
       now() - make_interval(mins => i * 3)
FROM generate_series(1, 20000) AS i;

-- Payloads differ by event type, as real ones do; the rows go to this month's partition,
-- whose indexes PostgreSQL created from the parent's.
INSERT INTO analytics_events (event_type, user_id, payload, created_at)
SELECT t.type, CASE WHEN i % 3 = 0 THEN NULL ELSE u.ids[1 + i % 5000] END,
       CASE t.type
         WHEN 'page_view' THEN jsonb_build_object('page', '/p/' || (i % 300))
         WHEN 'add_to_cart' THEN jsonb_build_object('sku', 'SKU' || (i % 2000),
                                                    'quantity', 1 + i % 3)
         WHEN 'search' THEN jsonb_build_object('query', 'q' || (i % 500))
         WHEN 'checkout' THEN jsonb_build_object('items', 1 + i % 4)
         ELSE jsonb_build_object('source', (ARRAY['ads', 'newsletter'])[1 + i % 2])
       END,
       date_trunc('month', now()) + make_interval(secs => i * 10)
FROM generate_series(1, 100000) AS i
CROSS JOIN LATERAL (SELECT (ARRAY['page_view', 'add_to_cart', 'search', 'checkout',
                                  'signup'])[1 + i % 5] AS type) AS t,
     (SELECT array_agg(id) AS ids FROM users) AS u;
"""

TABLES = ("users", "products", "carts", "cart_items", "orders", "leads", "analytics_events")


@pytest.fixture(scope="module", autouse=True)
async def filled(database_url: str) -> AsyncIterator[None]:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(FILL)
        for table in TABLES:
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        yield
    finally:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        await conn.close()


async def plan(conn: asyncpg.Connection, query: str, *args: object) -> str:
    rows = await conn.fetch(f"EXPLAIN (COSTS OFF) {query}", *args)
    return "\n".join(r[0] for r in rows)


async def test_1_users_email_unique_serves_login(conn: asyncpg.Connection) -> None:
    query = "SELECT id, password_hash FROM users WHERE email = $1"
    assert "users_email_key" in await plan(conn, query, "USER42@example.com")


async def test_2_partial_active_products_serves_the_catalog_page(conn: asyncpg.Connection) -> None:
    first_page = (
        "SELECT id, name, price FROM products"
        " WHERE active AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 20"
    )
    assert "products_active_created_at_idx" in await plan(conn, first_page)
    keyset = (
        "SELECT id, name, price FROM products"
        " WHERE active AND deleted_at IS NULL AND created_at < now() - interval '5 days'"
        " ORDER BY created_at DESC LIMIT 20"
    )
    assert "products_active_created_at_idx" in await plan(conn, keyset)


async def test_3_cart_items_cart_id_serves_cart_loading(conn: asyncpg.Connection) -> None:
    cart = await conn.fetchval("SELECT cart_id FROM cart_items LIMIT 1")
    query = "SELECT product_id, quantity FROM cart_items WHERE cart_id = $1"
    assert "cart_items_cart_id_idx" in await plan(conn, query, cart)


async def test_4_orders_user_created_serves_order_history(conn: asyncpg.Connection) -> None:
    user = await conn.fetchval("SELECT user_id FROM orders LIMIT 1")
    query = "SELECT id, status FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20"
    assert "orders_user_id_created_at_idx" in await plan(conn, query, user)


async def test_5_orders_status_created_serves_the_back_office(conn: asyncpg.Connection) -> None:
    query = "SELECT id FROM orders WHERE status = 'paid' ORDER BY created_at DESC LIMIT 50"
    assert "orders_status_created_at_idx" in await plan(conn, query)


async def test_6_events_type_created_serves_type_and_period(conn: asyncpg.Connection) -> None:
    query = (
        "SELECT id, payload FROM analytics_events WHERE event_type = 'signup'"
        " AND created_at >= date_trunc('month', now())"
        " AND created_at < date_trunc('month', now()) + interval '1 day'"
        " ORDER BY created_at DESC LIMIT 50"
    )
    assert "event_type_created_at_idx" in await plan(conn, query)


async def test_7_events_user_partial_serves_a_users_journey(conn: asyncpg.Connection) -> None:
    user = await conn.fetchval(
        "SELECT user_id FROM analytics_events WHERE user_id IS NOT NULL LIMIT 1"
    )
    query = (
        "SELECT id, event_type FROM analytics_events WHERE user_id = $1"
        " ORDER BY created_at DESC LIMIT 50"
    )
    assert "user_id_created_at_idx" in await plan(conn, query, user)


async def test_8_events_payload_gin_serves_containment(conn: asyncpg.Connection) -> None:
    query = "SELECT id FROM analytics_events WHERE payload @> $1::jsonb"
    assert "payload_idx" in await plan(conn, query, json.dumps({"sku": "SKU42"}))


async def test_9_products_name_trigram_serves_fuzzy_search(conn: asyncpg.Connection) -> None:
    # Typo-tolerant word match: the query word against the words of each name.
    await conn.execute("SET LOCAL pg_trgm.word_similarity_threshold = 0.6")
    fuzzy = "SELECT id, name FROM products WHERE 'japonaize' <% name"
    assert "products_name_trgm_idx" in await plan(conn, fuzzy)
    # Autocomplete on any part of the name.
    substring = "SELECT id, name FROM products WHERE name ILIKE '%ontre bl%'"
    assert "products_name_trgm_idx" in await plan(conn, substring)


async def test_10a_leads_created_serves_newest_first(conn: asyncpg.Connection) -> None:
    newest = "SELECT id, name, email FROM leads ORDER BY created_at DESC LIMIT 50"
    assert "leads_created_at_idx" in await plan(conn, newest)
    period = (
        "SELECT id FROM leads WHERE created_at >= now() - interval '1 day'"
        " ORDER BY created_at DESC LIMIT 50"
    )
    assert "leads_created_at_idx" in await plan(conn, period)


async def test_10b_leads_email_serves_the_crm_filter(conn: asyncpg.Connection) -> None:
    query = "SELECT id, created_at FROM leads WHERE email = $1"
    assert "leads_email_idx" in await plan(conn, query, "LEAD7@example.com")


async def test_no_index_mentions_the_stock_so_a_sale_updates_no_index(
    conn: asyncpg.Connection,
) -> None:
    """Every checkout and cancellation writes products.stock: with no index mentioning it
    (key or predicate), PostgreSQL rewrites the row in place (a HOT update) instead of
    adding an entry to each of the products' indexes, GIN ones included (revision 0017)."""
    definitions = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products'"
    )
    assert definitions
    assert [r["indexname"] for r in definitions if "stock" in r["indexdef"]] == []
