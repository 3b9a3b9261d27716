"""The caller's saved addresses, for the next checkout."""

from uuid import UUID

from fastapi import APIRouter, Response

from comptoir.addresses import queries
from comptoir.addresses.schemas import Address, AddressList, SavedAddress
from comptoir.auth.deps import CurrentUser, CustomerDb
from comptoir.errors import Conflict, NotFound

router = APIRouter(tags=["account"])


@router.get("/v1/me/addresses", operation_id="list_my_addresses")
async def list_my_addresses(user: CurrentUser, db: CustomerDb) -> AddressList:
    """The caller's saved addresses, oldest first."""
    return AddressList(items=await db.one(queries.list_addresses, user_id=user.id))


@router.post(
    "/v1/me/addresses",
    status_code=201,
    operation_id="save_my_address",
    responses={409: {"description": f"Already {queries.MAX_SAVED} saved addresses"}},
)
async def save_my_address(body: Address, user: CurrentUser, db: CustomerDb) -> SavedAddress:
    """Save an address on the account. Orders keep their own copy: deleting or saving
    addresses never changes an order."""
    saved = await db.one(queries.insert_address, user_id=user.id, address=body)
    if saved is None:
        raise Conflict(f"You already have {queries.MAX_SAVED} saved addresses; delete one first.")
    return saved


@router.delete(
    "/v1/me/addresses/{address_id}",
    status_code=204,
    operation_id="delete_my_address",
    responses={404: {"description": "No such address of the caller"}},
)
async def delete_my_address(address_id: UUID, user: CurrentUser, db: CustomerDb) -> Response:
    if not await db.one(queries.delete_address, user_id=user.id, address_id=address_id):
        raise NotFound("No such address.")
    return Response(status_code=204)
