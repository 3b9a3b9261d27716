"""The caller's cart.

Every route is one statement through the public door, in both RLS modes: the cart's
functions (db/functions/) say whom they serve inside that statement, so the door need not
say it first, which would cost a BEGIN and a COMMIT round trip (docs/rls.md). An admin's
cart is theirs like anyone's: the cart has no back-office policy.
"""

from typing import assert_never
from uuid import UUID

from fastapi import APIRouter, Response

from comptoir.auth.deps import CurrentUser
from comptoir.carts import queries
from comptoir.carts.schemas import Cart, Quantity
from comptoir.deps import Currency, PublicDb
from comptoir.errors import Conflict, NotFound, Responses
from comptoir.responses import raw_json

router = APIRouter(tags=["cart"])

UNAUTHORIZED: Responses = {401: {"description": "No token"}}


@router.get("/v1/cart", response_model=Cart, responses=UNAUTHORIZED)
async def get_cart(user: CurrentUser, db: PublicDb, currency: Currency) -> Response:
    """The caller's cart: lines at current prices, line totals and total."""
    cart = await db.one(queries.fetch_cart_json, user_id=user.id, currency=currency)
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
    product_id: UUID, body: Quantity, user: CurrentUser, db: PublicDb, currency: Currency
) -> Response:
    """Set how many of a product the cart holds (adds the line if needed)."""
    line = await db.one(
        queries.set_line,
        user_id=user.id,
        product_id=product_id,
        quantity=body.quantity,
        currency=currency,
    )
    match line:
        case queries.LineSet(cart=cart):
            return raw_json(cart)
        case queries.NoSuchProduct():
            raise NotFound("No such product.")
        case queries.ShortOfStock(available=left):
            raise Conflict(f"Only {left} left in stock.", available=left)
        case _:
            assert_never(line)


@router.delete("/v1/cart/items/{product_id}", status_code=204, responses=UNAUTHORIZED)
async def remove_line(product_id: UUID, user: CurrentUser, db: PublicDb) -> Response:
    """Take a product out of the cart."""
    await db.one(queries.delete_line, user_id=user.id, product_id=product_id)
    return Response(status_code=204)


@router.delete("/v1/cart", status_code=204, responses=UNAUTHORIZED)
async def clear_cart(user: CurrentUser, db: PublicDb) -> Response:
    """Empty the cart."""
    await db.one(queries.delete_lines, user_id=user.id)
    return Response(status_code=204)
