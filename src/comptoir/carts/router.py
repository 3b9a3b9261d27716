"""The caller's cart.

Every route is one statement on the pool, in both RLS modes: the cart's functions
(db/functions/) say whom they serve inside that statement, so no `db.scoped()` transaction is needed
(docs/rls.md). An admin's cart is theirs like anyone's: the cart has no back-office policy.
"""

from uuid import UUID

from fastapi import APIRouter, Request, Response

from comptoir.auth.deps import CurrentUser
from comptoir.carts import queries
from comptoir.carts.schemas import Cart, Quantity
from comptoir.db.context import Db
from comptoir.errors import Conflict, NotFound, Responses
from comptoir.responses import raw_json, shop_currency

router = APIRouter(tags=["cart"])

UNAUTHORIZED: Responses = {401: {"description": "No token"}}


@router.get("/v1/cart", response_model=Cart, responses=UNAUTHORIZED)
async def get_cart(request: Request, user: CurrentUser, db: Db) -> Response:
    """The caller's cart: lines at current prices, line totals and total."""
    cart = await queries.fetch_cart_json(db.pool, user_id=user.id, currency=shop_currency(request))
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
    line = await queries.set_line(
        db.pool,
        user_id=user.id,
        product_id=product_id,
        quantity=body.quantity,
        currency=shop_currency(request),
    )
    if line["stock_left"] is None:
        raise NotFound("No such product.")
    if not line["written"]:
        left = line["stock_left"]
        raise Conflict(f"Only {left} left in stock.", available=left)
    return raw_json(line["cart"])


@router.delete("/v1/cart/items/{product_id}", status_code=204, responses=UNAUTHORIZED)
async def remove_line(product_id: UUID, user: CurrentUser, db: Db) -> Response:
    """Take a product out of the cart."""
    await queries.delete_line(db.pool, user_id=user.id, product_id=product_id)
    return Response(status_code=204)


@router.delete("/v1/cart", status_code=204, responses=UNAUTHORIZED)
async def clear_cart(user: CurrentUser, db: Db) -> Response:
    """Empty the cart."""
    await queries.delete_lines(db.pool, user_id=user.id)
    return Response(status_code=204)
