"""The back office's dashboard figures (admins)."""

from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter, Response

from comptoir.auth.deps import StaffDb
from comptoir.dashboard import queries
from comptoir.dashboard.schemas import Dashboard
from comptoir.deps import Currency
from comptoir.errors import Responses
from comptoir.responses import raw_json

router = APIRouter(tags=["admin"])

ADMIN: Responses = {401: {"description": "No token"}, 403: {"description": "Not an admin"}}
CHART_DAYS = 30
LOW_STOCK = 8


def window(now: datetime) -> queries.Window:
    last_day = now.astimezone(UTC).date()
    first_day = last_day - timedelta(days=CHART_DAYS - 1)
    month_start = last_day.replace(day=1)
    since = datetime.combine(min(first_day, month_start), time(), UTC)
    return queries.Window(first_day, last_day, month_start, since)


@router.get("/v1/admin/dashboard", response_model=Dashboard, responses=ADMIN)
async def dashboard(db: StaffDb, currency: Currency) -> Response:
    """The shop at a glance, in UTC days: orders and revenue today and this month, orders
    per status and per day over the last 30 days (revenue is what paid and shipped orders
    brought), and the products on sale lowest on stock. Read through indexes only: the
    orders of the period, the first entries of the stock index."""
    document = await db.one(
        queries.fetch_dashboard_json,
        window=window(datetime.now(UTC)),
        low_stock=LOW_STOCK,
        currency=currency,
    )
    return raw_json(document)
