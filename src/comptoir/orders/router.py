"""The caller's orders, and the back office's."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from comptoir.auth.deps import CurrentUser, CustomerDb, StaffDb
from comptoir.deps import Currency, PaymentProvider, SystemDb
from comptoir.errors import NotFound, Responses
from comptoir.leads.router import wants_csv
from comptoir.orders import export, queries, service
from comptoir.orders.schemas import AdminOrder, AdminOrderPage, Order, OrderPage, StatusMove
from comptoir.orders.states import Status
from comptoir.pagination import Cursor, Limit, decode_time_id
from comptoir.payments import service as payments
from comptoir.periods import period
from comptoir.responses import raw_json

router = APIRouter(tags=["orders"])

MINE: Responses = {401: {"description": "No token"}, 404: {"description": "Not yours"}}
ADMIN: Responses = {401: {"description": "No token"}, 403: {"description": "Not an admin"}}


@router.get("/v1/orders", response_model=OrderPage, responses=MINE)
async def my_orders(
    user: CurrentUser, db: CustomerDb, currency: Currency, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """The caller's orders, newest first."""
    after = decode_time_id(cursor) if cursor else None
    page = await db.one(
        queries.list_user_orders_json, user_id=user.id, after=after, limit=limit, currency=currency
    )
    return raw_json(page)


@router.get("/v1/orders/{order_id}", response_model=Order, responses=MINE)
async def my_order(
    order_id: UUID, user: CurrentUser, db: CustomerDb, currency: Currency
) -> Response:
    """One of the caller's orders, with its lines (names as they are now, prices as paid)."""
    document = await db.one(
        queries.fetch_order_json,
        order_id=order_id,
        owner=None if user.role == "admin" else user.id,
        currency=currency,
    )
    if document is None:
        raise NotFound("No such order.")
    return raw_json(document)


@router.post(
    "/v1/orders/{order_id}/cancel",
    response_model=Order,
    responses={**MINE, 409: {"description": "Not pending"}},
)
async def cancel_my_order(
    order_id: UUID,
    user: CurrentUser,
    db: CustomerDb,
    system: SystemDb,
    provider: PaymentProvider,
    currency: Currency,
) -> Response:
    """Cancel one of the caller's pending orders; its units go back in stock, and its
    payment at the provider is cancelled (the shop's own call: through the system's door)."""
    document = await service.move(
        db,
        order_id=order_id,
        target="cancelled",
        owner=user.id,
        currency=currency,
        only_from="pending",
    )
    if provider is not None and await payments.cancel_intents(system, provider, order_id=order_id):
        document = await _mine(db, order_id, user.id, currency)
    return raw_json(document)


@router.post(
    "/v1/orders/{order_id}/payment",
    response_model=Order,
    responses={
        **MINE,
        409: {"description": "Not pending"},
        503: {"description": "The payment provider did not answer; the order is kept"},
    },
)
async def pay_my_order(
    order_id: UUID,
    user: CurrentUser,
    db: CustomerDb,
    system: SystemDb,
    provider: PaymentProvider,
    currency: Currency,
) -> Response:
    """The payment of one of the caller's pending orders at the shop's provider, created
    if checkout could not (the provider was down): the order, with `payment.client_secret`
    for Stripe.js. Idempotent: never a second payment for an order. 404 when the shop has no
    provider."""
    await payments.pay_order(
        db, provider, order_id=order_id, owner=user.id, currency=currency, system=system
    )
    return raw_json(await _mine(db, order_id, user.id, currency))


async def _mine(db: CustomerDb, order_id: UUID, owner: UUID, currency: str) -> str:
    document = await db.one(
        queries.fetch_order_json, order_id=order_id, owner=owner, currency=currency
    )
    if document is None:
        raise NotFound("No such order.")
    return document


@router.get(
    "/v1/admin/orders",
    response_model=AdminOrderPage,
    responses={
        **ADMIN,
        200: {
            "description": "Orders with their customer: JSON pages, or with `Accept: text/csv`"
            " every line of every order of the filters as CSV.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
async def all_orders(
    db: StaffDb,
    currency: Currency,
    status: Annotated[Status | None, Query(description="Only orders in this status.")] = None,
    # Any stored address, not only one that passes today's validation: the demo's and
    # imported accounts' (a reserved domain such as comptoir.test) must be found too.
    email: Annotated[
        str | None,
        Query(min_length=1, max_length=320, description="Only this customer's orders."),
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="Placed from this instant.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(alias="to", description="Placed before this instant.")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """All orders, newest first, with who placed them (email, name), their addresses and
    lines; by status, customer email and period. With `Accept: text/csv`: one row per order
    line, oldest first, every order of the filters (no paging), streamed; cells a
    spreadsheet would run as formulas are neutralised."""
    since, until = period(since, until)
    filters = queries.AdminFilter(status=status, email=email, since=since, until=until)
    if wants_csv(accept):
        return StreamingResponse(
            export.orders_csv(db, filters=filters, currency=currency),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
        )
    after = decode_time_id(cursor) if cursor else None
    page = await db.one(
        queries.list_admin_orders_json,
        filters=filters,
        after=after,
        limit=limit,
        currency=currency,
    )
    return raw_json(page)


@router.post(
    "/v1/admin/orders/{order_id}/status",
    response_model=Order,
    responses={
        **ADMIN,
        404: {"description": "No such order"},
        409: {"description": "Move not allowed"},
    },
)
async def move_order(
    order_id: UUID, body: StatusMove, db: StaffDb, provider: PaymentProvider, currency: Currency
) -> Response:
    """Move an order: pending→paid, pending→cancelled, paid→shipped, paid→cancelled.
    Cancelling puts the stock back; cancelling an order paid through a provider refunds it
    there (once, however often the request is retried: `payment.refund` says where it
    stands), and cancelling a pending one cancels its payment."""
    document = await payments.move_as_admin(
        db, provider, order_id=order_id, target=body.status, currency=currency
    )
    return raw_json(document)


@router.get(
    "/v1/admin/orders/{order_id}",
    response_model=AdminOrder,
    responses={**ADMIN, 404: {"description": "No such order"}},
)
async def admin_order(order_id: UUID, db: StaffDb, currency: Currency) -> Response:
    """One order as the back office sees it: its customer, and its payment with the
    provider's ids and every payment event."""
    document = await db.one(queries.fetch_admin_order_json, order_id=order_id, currency=currency)
    if document is None:
        raise NotFound("No such order.")
    return raw_json(document)
