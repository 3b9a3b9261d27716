"""The catalog: public reads, admin writes."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from comptoir.auth.deps import OptionalUser, StaffDb
from comptoir.catalog import queries
from comptoir.catalog.schemas import NewProduct, ProductChanges, ProductPage
from comptoir.catalog.schemas import Product as ProductModel
from comptoir.deps import Currency, ReadDb
from comptoir.errors import NotFound
from comptoir.pagination import Cursor, Limit, decode_offset, decode_time_id
from comptoir.responses import raw_json

router = APIRouter(tags=["catalog"])


def _missing() -> NotFound:
    return NotFound("No such product.")


@router.get("/v1/products", response_model=ProductPage)
async def list_products(
    db: ReadDb, currency: Currency, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """Active products, newest first."""
    after = decode_time_id(cursor) if cursor else None
    page = await db.one(queries.list_page_json, currency=currency, after=after, limit=limit)
    return raw_json(page)


@router.get("/v1/products/search", response_model=ProductPage)
async def search_products(
    db: ReadDb,
    currency: Currency,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Words to look for.")],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    """Fuzzy search on product names, best match first. Typos, case and accents are
    tolerated: `chausure` finds "Chaussure", `elegant` finds "Élégant"."""
    offset = decode_offset(cursor, most=queries.CANDIDATES) if cursor else 0
    # Two statements (the spellings, then the page): one transaction, so one connection.
    async with db.transaction() as conn:
        page = await queries.search_page_json(
            conn, currency=currency, query=q, offset=offset, limit=limit
        )
    return raw_json(page)


@router.get(
    "/v1/products/{product_id}",
    response_model=ProductModel,
    responses={404: {"description": "No such product, or hidden"}},
)
async def get_product(
    product_id: UUID, db: ReadDb, currency: Currency, user: OptionalUser
) -> Response:
    """One product. Deleted or inactive products are 404, except for admins."""
    product = await db.one(
        queries.fetch_product_json,
        currency=currency,
        product_id=product_id,
        hidden_too=user is not None and user.role == "admin",
    )
    if product is None:
        raise _missing()
    return raw_json(product)


@router.post("/v1/products", status_code=201, response_model=ProductModel)
async def create_product(body: NewProduct, db: StaffDb, currency: Currency) -> Response:
    """Add a product to the catalog (admins)."""
    product = await db.one(queries.insert_product_json, currency=currency, **body.model_dump())
    return raw_json(product, 201)


@router.patch(
    "/v1/products/{product_id}",
    response_model=ProductModel,
    responses={404: {"description": "No such product"}},
)
async def update_product(
    product_id: UUID, body: ProductChanges, db: StaffDb, currency: Currency
) -> Response:
    """Change name, description, price, stock or active (admins)."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    product = await db.one(
        queries.update_product_json, currency=currency, product_id=product_id, changes=changes
    )
    if product is None:
        raise _missing()
    return raw_json(product)


@router.delete(
    "/v1/products/{product_id}",
    status_code=204,
    responses={404: {"description": "No such product"}},
)
async def delete_product(product_id: UUID, db: StaffDb) -> Response:
    """Soft delete (admins): hidden from the catalog, kept in the orders that hold it."""
    if not await db.one(queries.soft_delete_product, product_id=product_id):
        raise _missing()
    return Response(status_code=204)
