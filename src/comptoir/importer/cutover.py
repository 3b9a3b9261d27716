"""Moving day: a second import of the same store (the cutover, after a rehearsal) brings
the database to the final snapshot's state.

`import_sources` keeps, for each legacy record, the fingerprint of its source form at the
last import and the fingerprint of the Comptoir row that import wrote. Comparing both
with now tells, per record: unchanged; changed there (the legacy record changed, the row
did not: the row is updated); changed here (only the row changed: Comptoir's version
stays, counted unchanged); changed on both sides (a conflict: Comptoir's version stays and
the report shows both sides' differences). Records gone from the store are reported,
never deleted. Users, products and orders are compared (an email or password hash, a
stock level or price, an order's status); carts, leads and events are only added.
"""

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from comptoir.importer import staging


@dataclass(frozen=True)
class Target:
    collection: str
    staged: str
    table: str
    row_fingerprint: str  # over the table's row `t`
    update: str  # SET clause from the staged record `s`
    shown: str  # the row's columns a conflict shows, as a jsonb expression over `t`


TARGETS = (
    Target("users", "import_users", "users", staging.USERS_ROW_FINGERPRINT,
           "email = s.email::citext, password_hash = s.password_hash, role = s.role::user_role,"
           " name = s.name, updated_at = now()",
           "jsonb_build_object('email', t.email, 'role', t.role, 'name', t.name)"),
    Target("products", "import_products", "products",
           "md5(concat_ws('|', t.name, t.description, t.price, t.stock, t.active, t.attributes))",
           "name = s.name, description = s.description, price = s.price, stock = s.stock,"
           " active = s.active, attributes = s.attributes, updated_at = now()",
           "jsonb_build_object('name', t.name, 'price', t.price::text, 'stock', t.stock,"
           " 'active', t.active)"),
    Target("orders", "import_orders", "orders",
           "md5(concat_ws('|', t.status, t.total_amount))",
           "status = s.status::order_status, total_amount = s.total, updated_at = now()",
           "jsonb_build_object('status', t.status, 'total', t.total_amount::text)"),
)  # fmt: skip
VERDICTS = ("added", "updated", "unchanged", "conflicting", "gone")
ROW_FINGERPRINTS = {target.collection: target.row_fingerprint for target in TARGETS}

CLASSIFY = """
CREATE TEMP TABLE import_cutover ON COMMIT DROP AS
SELECT s.ord, s.key AS legacy_id, src.row_id, src.source AS before, s.raw::jsonb AS after,
       {shown} AS comptoir,
       CASE WHEN src.fingerprint = s.fp THEN 'unchanged'
            WHEN {row_fingerprint} IS NOT DISTINCT FROM src.row_fingerprint THEN 'updated'
            ELSE 'conflicting' END AS verdict
FROM {staged} s
JOIN import_sources src ON src.collection = '{collection}' AND src.legacy_id = s.key
JOIN {table} t ON t.id = src.row_id
WHERE s.raw IS NOT NULL
"""

ADDED = """
SELECT count(*) FROM {staged} s
WHERE s.raw IS NOT NULL AND NOT EXISTS (
    SELECT FROM import_sources src
    WHERE src.collection = '{collection}' AND src.legacy_id = s.key)
"""

APPLY = """
UPDATE {table} t SET {update}
FROM import_cutover x JOIN {staged} s ON s.ord = x.ord
WHERE x.verdict = 'updated' AND t.id = x.row_id
"""

REMEMBER = """
UPDATE import_sources src
SET source = x.after, fingerprint = s.fp, row_fingerprint = {row_fingerprint},
    imported_at = now()
FROM import_cutover x JOIN {staged} s ON s.ord = x.ord JOIN {table} t ON t.id = x.row_id
WHERE x.verdict = 'updated' AND src.collection = '{collection}' AND src.legacy_id = x.legacy_id
"""

GONE = """
SELECT src.legacy_id FROM import_sources src
WHERE src.collection = '{collection}'
  AND NOT EXISTS (SELECT FROM {staged} s WHERE s.key = src.legacy_id)
ORDER BY src.legacy_id
"""


def conflict(collection: str, row: asyncpg.Record) -> dict[str, Any]:
    before, after = json.loads(row["before"]), json.loads(row["after"])
    keys = sorted(set(before) | set(after))
    changed = {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}
    return {"collection": collection, "legacy_id": row["legacy_id"],
            "changed in the legacy store (before, after)": changed,
            "kept: Comptoir's version": json.loads(row["comptoir"])}  # fmt: skip


def target_of(collection: str) -> Target:
    return next(target for target in TARGETS if target.collection == collection)


# Every record read keeps its source form (secrets masked) and fingerprint, by legacy
# collection and id, so that support finds "order 1234" as the old shop had it. Events
# are left out: they are most of a store, and their row keeps the record as its payload.
_SOURCE = """
INSERT INTO import_sources (collection, legacy_id, source, fingerprint, row_id, row_fingerprint)
SELECT {collection}, {key}, s.raw::jsonb, s.fp, {row_id}, {row_fingerprint}
FROM {table} s {join}
WHERE s.raw IS NOT NULL
ON CONFLICT (collection, legacy_id) DO NOTHING
"""


def sources() -> list[str]:
    # The row's fingerprint as this import wrote it, for the next import's comparison
    def row_fp(table: str, row_id: str) -> str:
        expression = ROW_FINGERPRINTS[table]
        return f"(SELECT {expression} FROM {table} t WHERE t.id = {row_id})"

    return [
        _SOURCE.format(collection="'users'", key="s.key", row_id="m.user_id",
                       table="import_users", join="JOIN import_user_map m ON m.ord = s.ord",
                       row_fingerprint=row_fp("users", "m.user_id")),
        _SOURCE.format(collection="'products'", key="s.key", table="import_products", join="",
                       row_id="md5('product:' || s.key)::uuid",
                       row_fingerprint=row_fp("products", "md5('product:' || s.key)::uuid")),
        _SOURCE.format(collection="'carts'", key="s.user_key || '#' || s.ord",
                       table="import_carts", join="JOIN import_cart_owners o ON o.ord = s.ord",
                       row_id="md5('cart:' || o.user_id)::uuid", row_fingerprint="NULL"),
        _SOURCE.format(collection="'orders'", key="s.key", table="import_orders", join="",
                       row_id="md5('order:' || s.key)::uuid",
                       row_fingerprint=row_fp("orders", "md5('order:' || s.key)::uuid")),
        _SOURCE.format(collection="'leads'", key="COALESCE(s.key, 'at:' || s.ord)",
                       table="import_leads", join="", row_fingerprint="NULL",
                       row_id=staging.LEAD_ID.replace("key", "s.key").replace("ord)", "s.ord)")),
        _SOURCE.format(collection="s.collection", key="s.ord::text", table="import_kept",
                       join="", row_id="NULL::uuid", row_fingerprint="NULL"),
    ]  # fmt: skip
