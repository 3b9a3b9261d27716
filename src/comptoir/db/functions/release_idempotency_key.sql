-- A refused checkout wrote nothing but its key: removing the key leaves the database as if
-- the attempt never happened, and the same key may be tried again.
CREATE OR REPLACE FUNCTION public.release_idempotency_key(buyer uuid, idempotency_key text)
 RETURNS void
 LANGUAGE sql
BEGIN ATOMIC
    -- No table alias: servers before 18 print one back with AS, 18 without, and
    -- db/postgres_schema.sql must read the same on every server.
    DELETE FROM idempotency_keys WHERE user_id = buyer AND key = idempotency_key;
END;
