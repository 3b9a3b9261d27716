"""SQL of the back office's dashboard: one statement, the JSON built by PostgreSQL."""

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from comptoir.orders.states import Status

# Money in: paid and shipped orders (pending ones are not paid yet, cancelled ones gave it
# back).
EARNING: tuple[Status, ...] = ("paid", "shipped")
EVERY_STATUS: tuple[Status, ...] = ("pending", "paid", "shipped", "cancelled")

# `status = ANY(every status)` lets the (status, created_at) index serve a period of every
# status, one range per status, instead of a scan of all orders. The period starts at the
# earlier of the chart's first day and the month's first day.
DASHBOARD = """
WITH placed AS (
  SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, o.status::text AS status,
         CASE WHEN o.status::text = ANY($5::text[]) THEN o.total_amount ELSE 0 END AS earned
  FROM orders AS o
  WHERE o.status = ANY($1::order_status[]) AND o.created_at >= $2
),
days AS (
  SELECT d::date AS day FROM generate_series($3::date, $4::date, interval '1 day') AS d
),
per_day AS (
  SELECT days.day, count(placed.day) AS orders,
         coalesce(sum(placed.earned), 0) AS revenue
  FROM days LEFT JOIN placed ON placed.day = days.day
  GROUP BY days.day
),
low AS (
  SELECT p.id, p.name, p.stock FROM products AS p
  WHERE p.deleted_at IS NULL AND p.active
  ORDER BY p.stock, p.id
  LIMIT $7
)
SELECT json_build_object(
  'currency', $8::text,
  'first_day', $3::date,
  'last_day', $4::date,
  'today', (SELECT json_build_object(
      'orders', count(*),
      'revenue', coalesce(sum(earned), 0)::numeric(14, 2)::text)
    FROM placed WHERE day = $4::date),
  'month', (SELECT json_build_object(
      'orders', count(*),
      'revenue', coalesce(sum(earned), 0)::numeric(14, 2)::text)
    FROM placed WHERE day >= $6::date),
  'by_status', (SELECT json_object_agg(s.st::text, (SELECT count(*) FROM placed
                    WHERE placed.status = s.st::text AND placed.day >= $3::date))
                FROM unnest($1::order_status[]) AS s(st)),
  'days', (SELECT json_agg(json_build_object(
      'day', day, 'orders', orders, 'revenue', revenue::numeric(14, 2)::text) ORDER BY day)
    FROM per_day),
  'low_stock', (SELECT coalesce(json_agg(json_build_object(
      'id', id, 'name', name, 'stock', stock) ORDER BY stock, id), '[]')
    FROM low)
)::text
"""


@dataclass(frozen=True)
class Window:
    """The chart's days (UTC, both included) and the month's first day."""

    first_day: date
    last_day: date
    month_start: date
    since: datetime  # the earlier of the two starts, as an instant


async def fetch_dashboard_json(
    conn: asyncpg.Connection, *, window: Window, low_stock: int, currency: str
) -> str:
    document: str = await conn.fetchval(
        DASHBOARD,
        list(EVERY_STATUS),
        window.since,
        window.first_day,
        window.last_day,
        list(EARNING),
        window.month_start,
        low_stock,
        currency,
    )
    return document
