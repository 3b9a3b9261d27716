"""Accounts (token revocation) and accent- and typo-tolerant product search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    -- Bumped by a password change: every token minted before carries the old generation
    -- and stops working.
    ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0;

    -- Tokens ended by logout, kept until they would have expired anyway.
    CREATE TABLE revoked_tokens (
        jti        uuid PRIMARY KEY,
        user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);

    -- Search folds case and accents: "elegant" finds "Élégant".
    CREATE EXTENSION IF NOT EXISTS unaccent;
    -- unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes
    -- the fold usable in the triggers below and in indexes.
    CREATE FUNCTION fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1));

    -- Every distinct word of every product name, as spelled (lower case, accents kept) and
    -- folded: a small table in which a typo finds its correction by trigram similarity in
    -- well under a millisecond, however many products share the word. Words are never
    -- removed: a stale one only finds nothing.
    CREATE TABLE product_words (
        spelling text PRIMARY KEY,
        word     text NOT NULL
    );
    CREATE INDEX product_words_word_idx ON product_words (word);
    -- Inserts are rare after a catalog's first load: written straight into the index
    -- (no pending list) so that no search ever pays for scanning one.
    CREATE INDEX product_words_word_trgm_idx ON product_words
        USING gin (word gin_trgm_ops) WITH (fastupdate = off);

    -- The words of a product name as the dictionary keeps them: lower case, accents kept.
    CREATE FUNCTION name_spellings(name text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    BEGIN ATOMIC
        SELECT s FROM regexp_split_to_table(lower(name), '[^[:alnum:]]+') AS s WHERE s <> '';
    END;

    CREATE FUNCTION record_product_words() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO product_words (spelling, word)
        SELECT DISTINCT s, fold(s)
        FROM new_rows, name_spellings(new_rows.name) AS s
        ON CONFLICT (spelling) DO NOTHING;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER products_record_words_on_insert AFTER INSERT ON products
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION record_product_words();
    -- A row trigger on name changes only, so that checkout's stock updates never pay for it.
    CREATE FUNCTION record_renamed_product_words() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO product_words (spelling, word)
        SELECT DISTINCT s, fold(s)
        FROM name_spellings(NEW.name) AS s
        ON CONFLICT (spelling) DO NOTHING;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER products_record_words_on_rename AFTER UPDATE OF name ON products
        FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION record_renamed_product_words();

    INSERT INTO product_words (spelling, word)
    SELECT DISTINCT s, fold(s)
    FROM products, name_spellings(name) AS s
    ON CONFLICT (spelling) DO NOTHING;

    -- Checkout updates stock on hot rows; room on each page keeps those updates HOT (no new
    -- index entries), since no indexed column changes.
    ALTER TABLE products SET (fillfactor = 90);
    """)


def downgrade() -> None:
    run_sql("""
    ALTER TABLE products RESET (fillfactor);
    DROP TRIGGER products_record_words_on_rename ON products;
    DROP TRIGGER products_record_words_on_insert ON products;
    DROP FUNCTION record_renamed_product_words();
    DROP FUNCTION record_product_words();
    DROP FUNCTION name_spellings(text);
    DROP TABLE product_words;
    DROP FUNCTION fold(text);
    DROP EXTENSION IF EXISTS unaccent;
    DROP TABLE revoked_tokens;
    ALTER TABLE users DROP COLUMN token_generation;
    """)
