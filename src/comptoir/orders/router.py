"""The caller's orders, and the back office's."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from comptoir.auth.deps import AdminUser, CurrentUser
from comptoir.db.context import Db, of_user
from comptoir.errors import NotFound, Responses
from comptoir.orders import queries, service
from comptoir.orders.schemas import Order, OrderPage, StatusMove
from comptoir.orders.states import Status
from comptoir.pagination import Cursor, Limit, decode_time_id
from comptoir.responses import raw_json, shop_currency

router = APIRouter(tags=["orders"])

MINE: Responses = {401: {"description": "No token"}, 404: {"description": "Not yours"}}
ADMIN: Responses = {401: {"description": "No token"}, 403: {"description": "Not an admin"}}


@router.get("/v1/orders", response_model=OrderPage, responses=MINE)
async def my_orders(
    request: Request, user: CurrentUser, db: Db, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """The caller's orders, newest first."""
    after = decode_time_id(cursor) if cursor else None
    async with db.scoped(of_user(user.id, user.role)) as conn:
        page = await queries.list_user_orders_json(
            conn, user_id=user.id, after=after, limit=limit, currency=shop_currency(request)
        )
    return raw_json(page)


@router.get("/v1/orders/{order_id}", response_model=Order, responses=MINE)
async def my_order(order_id: UUID, request: Request, user: CurrentUser, db: Db) -> Response:
    """One of the caller's orders, with its lines (names as they are now, prices as paid)."""
    async with db.scoped(of_user(user.id, user.role)) as conn:
        document = await queries.fetch_order_json(
            conn,
            order_id=order_id,
            owner=None if user.role == "admin" else user.id,
            currency=shop_currency(request),
        )
    if document is None:
        raise NotFound("No such order.")
    return raw_json(document)


@router.post(
    "/v1/orders/{order_id}/cancel",
    response_model=Order,
    responses={**MINE, 409: {"description": "Not pending"}},
)
async def cancel_my_order(order_id: UUID, request: Request, user: CurrentUser, db: Db) -> Response:
    """Cancel one of the caller's pending orders; its units go back in stock."""
    document = await service.move(
        db,
        of_user(user.id, user.role),
        order_id=order_id,
        target="cancelled",
        owner=user.id,
        currency=shop_currency(request),
        only_from="pending",
    )
    return raw_json(document)


@router.get("/v1/admin/orders", response_model=OrderPage, responses=ADMIN)
async def all_orders(
    request: Request,
    admin: AdminUser,
    db: Db,
    status: Annotated[Status | None, Query(description="Only orders in this status.")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """All orders, newest first, optionally by status."""
    after = decode_time_id(cursor) if cursor else None
    async with db.scoped(of_user(admin.id, admin.role)) as conn:
        page = await queries.list_orders_json(
            conn, status=status, after=after, limit=limit, currency=shop_currency(request)
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
    order_id: UUID, body: StatusMove, request: Request, admin: AdminUser, db: Db
) -> Response:
    """Move an order: pending→paid, pending→cancelled, paid→shipped, paid→cancelled.
    Cancelling puts the stock back."""
    document = await service.move(
        db,
        of_user(admin.id, admin.role),
        order_id=order_id,
        target=body.status,
        owner=None,
        currency=shop_currency(request),
    )
    return raw_json(document)
