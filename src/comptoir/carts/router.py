"""The caller's cart."""

from uuid import UUID

from fastapi import APIRouter, Request, Response

from comptoir.auth.deps import CurrentUser
from comptoir.carts import queries
from comptoir.carts.schemas import Cart, Quantity
from comptoir.db.context import Db, of_user
from comptoir.errors import Conflict, NotFound, Responses
from comptoir.responses import raw_json, shop_currency

router = APIRouter(tags=["cart"])

UNAUTHORIZED: Responses = {401: {"description": "No token"}}


@router.get("/v1/cart", response_model=Cart, responses=UNAUTHORIZED)
async def get_cart(request: Request, user: CurrentUser, db: Db) -> Response:
    """The caller's cart: lines at current prices, line totals and total."""
    currency = shop_currency(request)
    async with db.scoped(of_user(user.id, user.role)) as conn:
        cart = await queries.fetch_cart_json(conn, user_id=user.id, currency=currency)
    return raw_json(cart)


@router.put(
    "/v1/cart/items/{product_id}",
    response_model=Cart,
    responses={
        **UNAUTHORIZED,
        404: {"description": "Unknown, deleted or inactive product"},
        409: {"description": "Not enough stock"},
    },
)
async def set_quantity(
    product_id: UUID, body: Quantity, request: Request, user: CurrentUser, db: Db
) -> Response:
    """Set how many of a product the cart holds (adds the line if needed)."""
    # Under RLS a statement cannot see the cart it creates, so the line's check would fail
    # on the first one: the cart is made first, in the round trip that begins the
    # transaction (undone with it if the line is refused).
    first = queries.ensure_cart_sql(user.id)
    async with db.scoped(of_user(user.id, user.role), first=first) as conn:
        line = await queries.set_line(
            conn, user_id=user.id, product_id=product_id, quantity=body.quantity
        )
        if line["stock"] is None:
            raise NotFound("No such product.")
        if not line["written"]:
            raise Conflict(f"Only {line['stock']} left in stock.", available=line["stock"])
        currency = shop_currency(request)
        cart = await queries.fetch_cart_json(conn, user_id=user.id, currency=currency)
    return raw_json(cart)


@router.delete("/v1/cart/items/{product_id}", status_code=204, responses=UNAUTHORIZED)
async def remove_line(product_id: UUID, user: CurrentUser, db: Db) -> Response:
    """Take a product out of the cart."""
    async with db.scoped(of_user(user.id, user.role)) as conn:
        await queries.delete_line(conn, user_id=user.id, product_id=product_id)
    return Response(status_code=204)


@router.delete("/v1/cart", status_code=204, responses=UNAUTHORIZED)
async def clear_cart(user: CurrentUser, db: Db) -> Response:
    """Empty the cart."""
    async with db.scoped(of_user(user.id, user.role)) as conn:
        await queries.delete_lines(conn, user_id=user.id)
    return Response(status_code=204)
