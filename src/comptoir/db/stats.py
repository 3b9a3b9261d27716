"""`comptoir db stats`: what an operator looks at when the shop is slow or the disk grows.

Read-only: every section is one query on the catalog or statistics views, run in a
read-only transaction. A section that cannot be read (pg_stat_statements not loaded, say)
comes back empty with a hint instead of failing the whole report.
"""

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

STATEMENTS_EXTENSION = "pg_stat_statements"

STATEMENTS = """
SELECT left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) AS query,
       s.calls,
       round(s.total_exec_time::numeric, 1) AS total_ms,
       round(s.mean_exec_time::numeric, 3) AS mean_ms,
       s.rows
FROM pg_stat_statements AS s
JOIN pg_database AS d ON d.oid = s.dbid
WHERE d.datname = current_database()
ORDER BY {order} DESC
LIMIT $1
"""

LOCK_WAITS = """
SELECT waiting.pid AS waiting_pid,
       round(extract(epoch FROM now() - waiting.query_start)::numeric, 1) AS waiting_s,
       left(waiting.query, 100) AS waiting_query,
       blocker.pid AS blocking_pid,
       blocker.state AS blocking_state,
       left(blocker.query, 100) AS blocking_query
FROM pg_stat_activity AS waiting
CROSS JOIN LATERAL unnest(pg_blocking_pids(waiting.pid)) AS blocking(pid)
JOIN pg_stat_activity AS blocker ON blocker.pid = blocking.pid
WHERE waiting.datname = current_database()
ORDER BY waiting.query_start
"""

DEAD_TUPLES = """
SELECT relname AS "table", n_live_tup AS live, n_dead_tup AS dead,
       round(100.0 * n_dead_tup / greatest(n_live_tup + n_dead_tup, 1), 1) AS dead_pct,
       to_char(greatest(last_vacuum, last_autovacuum), 'YYYY-MM-DD HH24:MI') AS last_vacuum,
       to_char(greatest(last_analyze, last_autoanalyze), 'YYYY-MM-DD HH24:MI') AS last_analyze
FROM pg_stat_user_tables
ORDER BY n_dead_tup DESC, relname
LIMIT $1
"""

UNUSED_INDEXES = """
SELECT s.relname AS "table", s.indexrelname AS index,
       pg_size_pretty(pg_relation_size(s.indexrelid)) AS size, s.idx_scan AS scans
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
LIMIT $1
"""

# A b-tree's expected size from its row count and the average width of its keys (from
# pg_stats), against its actual size: the usual estimate, without the pgstattuple
# extension. Each entry costs an 8-byte tuple header, the MAXALIGNed key and a 4-byte line
# pointer; pages are filled to the fillfactor (90 by default) after the page header (24
# bytes) and the b-tree special space (16 bytes); plus the meta page.
INDEX_BLOAT = """
WITH btree AS (
  SELECT c.oid, n.nspname AS schema, t.relname AS "table", c.relname AS index,
         c.relpages, c.reltuples, current_setting('block_size')::numeric AS block,
         coalesce((regexp_match(array_to_string(c.reloptions, ','), 'fillfactor=(\\d+)'))[1]::int,
                  90) AS fillfactor
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid AND c.relkind = 'i'
  JOIN pg_class AS t ON t.oid = i.indrelid
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  JOIN pg_am AS am ON am.oid = c.relam AND am.amname = 'btree'
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND c.reltuples >= 0 AND c.relpages > 1 AND i.indisvalid
),
keys AS (
  SELECT b.oid, sum(coalesce(st.avg_width, 8)) AS width
  FROM btree AS b
  JOIN pg_attribute AS a ON a.attrelid = b.oid AND a.attnum > 0
  LEFT JOIN pg_stats AS st
    ON st.schemaname = b.schema AND st.tablename = b."table" AND st.attname = a.attname
  GROUP BY b.oid
),
estimate AS (
  SELECT b.*, 1 + ceil(b.reltuples * (8 + 4 + 8 * ceil(k.width / 8))
                       / ((b.block - 24 - 16) * b.fillfactor / 100)) AS expected_pages
  FROM btree AS b JOIN keys AS k ON k.oid = b.oid
)
SELECT schema, "table", index, (relpages * block)::bigint AS bytes,
       pg_size_pretty((relpages * block)::bigint) AS size,
       greatest(round((100 * (1 - expected_pages / relpages))::numeric, 1), 0) AS bloat_pct
FROM estimate
ORDER BY relpages - expected_pages DESC, index
LIMIT $1
"""

PARTITIONS = """
SELECT parent.relname AS parent, child.relname AS partition,
       pg_get_expr(child.relpartbound, child.oid) AS bounds,
       greatest(child.reltuples, 0)::bigint AS rows_estimate,
       pg_size_pretty(pg_total_relation_size(child.oid)) AS size
FROM pg_inherits AS inh
JOIN pg_class AS parent ON parent.oid = inh.inhparent AND parent.relkind = 'p'
JOIN pg_class AS child ON child.oid = inh.inhrelid
ORDER BY parent.relname, child.relname
"""


@dataclass
class Section:
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    hint: str | None = None


async def statements_hint(conn: asyncpg.Connection) -> str | None:
    """Why pg_stat_statements cannot be read here, as the steps that fix it; None if it can."""
    preloaded = await conn.fetchval("SELECT current_setting('shared_preload_libraries')")
    if STATEMENTS_EXTENSION not in preloaded:
        return (
            "pg_stat_statements is not loaded on this server: add it to "
            "shared_preload_libraries in postgresql.conf (ALTER SYSTEM SET "
            "shared_preload_libraries = 'pg_stat_statements'), restart PostgreSQL, then run "
            "CREATE EXTENSION pg_stat_statements; in this database."
        )
    created = await conn.fetchval(
        "SELECT true FROM pg_extension WHERE extname = $1", STATEMENTS_EXTENSION
    )
    if not created:
        return (
            "pg_stat_statements is loaded but not created in this database: run "
            "CREATE EXTENSION pg_stat_statements; (as a superuser or the database owner)."
        )
    return None


async def _rows(conn: asyncpg.Connection, sql: str, *args: object) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(sql, *args)]


async def collect(conn: asyncpg.Connection, *, limit: int = 10) -> list[Section]:
    async with conn.transaction(readonly=True):
        return await read_sections(conn, limit=limit)


async def _statements_hint(conn: asyncpg.Connection) -> str | None:
    # The back office reads as comptoir_staff with RLS on, which may not read the preloaded
    # libraries unless revision 0016 could grant it the monitoring roles: in a savepoint,
    # so that the refusal leaves the rest of the report readable.
    try:
        async with conn.transaction():
            return await statements_hint(conn)
    except asyncpg.InsufficientPrivilegeError:
        return (
            "This database role may not read the server's settings: a superuser runs GRANT "
            "pg_read_all_settings, pg_read_all_stats TO comptoir_staff; (the role of admin "
            "requests with COMPTOIR_RLS=on), or use `comptoir db stats`."
        )


async def read_sections(conn: asyncpg.Connection, *, limit: int) -> list[Section]:
    """Every section, in the caller's transaction (`comptoir db stats`, or the back office's
    GET /v1/admin/db/stats)."""
    hint = await _statements_hint(conn)
    by_total = Section("Statements by total time")
    by_mean = Section("Statements by mean time")
    if hint:
        by_total.hint = by_mean.hint = hint
    else:
        by_total.rows = await _rows(conn, STATEMENTS.format(order="total_exec_time"), limit)
        by_mean.rows = await _rows(conn, STATEMENTS.format(order="mean_exec_time"), limit)
    return [
        by_total,
        by_mean,
        Section("Lock waits now (who waits for whom)", await _rows(conn, LOCK_WAITS)),
        Section("Dead tuples and last vacuum", await _rows(conn, DEAD_TUPLES, limit * 3)),
        Section(
            "Unused indexes (no scan since statistics reset)",
            await _rows(conn, UNUSED_INDEXES, limit * 3),
        ),
        Section("Index bloat (estimate, b-tree)", await _rows(conn, INDEX_BLOAT, limit)),
        Section("Partitions", await _rows(conn, PARTITIONS)),
    ]


async def bloated_indexes(
    conn: asyncpg.Connection, *, min_bytes: int, min_pct: float
) -> list[dict[str, Any]]:
    """The indexes worth a REINDEX: big enough to matter, bloated enough to gain."""
    rows = await _rows(conn, INDEX_BLOAT, 1000)
    return [r for r in rows if r["bytes"] >= min_bytes and r["bloat_pct"] >= min_pct]


async def report(url: str, *, limit: int = 10) -> list[Section]:
    conn = await asyncpg.connect(url, server_settings={"application_name": "comptoir db stats"})
    try:
        return await collect(conn, limit=limit)
    finally:
        await conn.close()


def as_table(section: Section) -> RenderableType:
    """The section for a terminal: its title, then its rows, or the hint, or "(none)"."""
    title = Text(section.title, style="bold")
    if section.hint or not section.rows:
        return Group(title, Text(f"  {section.hint or '(none)'}\n"))
    table = Table()
    for column in section.rows[0]:
        table.add_column(column, overflow="fold")
    for row in section.rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    return Group(title, table, Text(""))
