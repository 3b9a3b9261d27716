-- The customer a transaction serves (`comptoir.user_id`, set with set_config(..., true));
-- NULL when unset, and NULL matches no row: forgetting the context denies, never leaks.
CREATE OR REPLACE FUNCTION public.request_user_id()
 RETURNS uuid
 LANGUAGE sql
 STABLE PARALLEL SAFE
RETURN nullif(current_setting('comptoir.user_id', true), '')::uuid;
