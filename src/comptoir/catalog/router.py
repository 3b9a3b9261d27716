"""The catalog: public reads, admin writes."""

from decimal import Decimal
from typing import Annotated, Any, Literal, assert_never
from uuid import UUID

from fastapi import APIRouter, Query, Response

from comptoir.auth.deps import OptionalUser, StaffDb
from comptoir.catalog import queries
from comptoir.catalog.params import (
    SortCursor,
    decode_sort_cursor,
    known_parameters,
    known_parameters_and_attributes,
)
from comptoir.catalog.schemas import (
    AdminProductPage,
    BrowsePage,
    NewProduct,
    ProductChanges,
    ProductPage,
    Suggestions,
)
from comptoir.catalog.schemas import Product as ProductModel
from comptoir.deps import Currency, ReadDb
from comptoir.errors import Conflict, NotFound, Unprocessable
from comptoir.pagination import Cursor, Limit, decode_offset
from comptoir.responses import raw_json
from comptoir.search import queries as search

router = APIRouter(tags=["catalog"])

PriceBound = Annotated[
    Decimal | None,
    Query(ge=0, le=Decimal("9999999999.99"), description="Price bound, inclusive."),
]
Words = Annotated[str, Query(min_length=1, max_length=200, description="Words to look for.")]


def _missing() -> NotFound:
    return NotFound("No such product.")


BrowseAttributes = Annotated[
    list[list[dict[str, Any]]],
    known_parameters_and_attributes(
        "sort", "min_price", "max_price", "in_stock", "limit", "cursor"
    ),
]


@router.get("/v1/products", response_model=BrowsePage)
async def list_products(
    db: ReadDb,
    currency: Currency,
    attributes: BrowseAttributes,
    sort: Literal["newest", "price_asc", "price_desc", "name"] = "newest",
    min_price: PriceBound = None,
    max_price: PriceBound = None,
    in_stock: Annotated[
        bool, Query(description="true: only products in stock; false (default): all.")
    ] = False,
    limit: Limit = 20,
    cursor: SortCursor = None,
) -> Response:
    """Active products, sorted (`newest` by default, `price_asc`, `price_desc`, `name`) and
    filtered: price range, in stock, and attribute values with `attr.<key>=<value>`
    (repeatable: values of one key are alternatives, different keys must all match; a
    value matches the attribute's value or an element of its list, as a string, or as the
    number or boolean it spells). `count` is exact up to 1,000, else "at least 1,000".
    Unknown parameters are 422."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise Unprocessable(
            "min_price is above max_price.",
            errors=[
                {"loc": ["query", "min_price"], "msg": "above max_price", "type": "value_error"}
            ],
        )
    after = decode_sort_cursor(cursor, sort) if cursor else None
    filters = queries.Filters(min_price, max_price, in_stock, attributes)
    page = await db.one(
        queries.browse_page_json, currency=currency, sort=sort, filters=filters, after=after,
        limit=limit,
    )  # fmt: skip
    return raw_json(page)


@router.get(
    "/v1/products/search",
    response_model=ProductPage,
    dependencies=[known_parameters("q", "limit", "cursor")],
)
async def search_products(
    db: ReadDb, currency: Currency, q: Words, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """Search on product names, brands and categories, best match first: products with
    every word exactly (a plural or singular counts), then with words that begin like the
    query's, then, only for a word no product has, its closest spellings (`tase` finds
    "tasse"). Case and accents are ignored: `theiere` finds "Théière"."""
    offset = decode_offset(cursor, most=search.CANDIDATES) if cursor else 0
    # Two statements (the words, then the page): one transaction, so one connection.
    async with db.transaction() as conn:
        page = await search.search_page_json(
            conn, currency=currency, query=q, offset=offset, limit=limit
        )
    return raw_json(page)


@router.get(
    "/v1/products/suggest",
    response_model=Suggestions,
    dependencies=[known_parameters("q", "limit")],
)
async def suggest_products(
    db: ReadDb,
    currency: Currency,
    q: Annotated[str, Query(min_length=1, max_length=100, description="What is typed so far.")],
    limit: Annotated[int, Query(ge=1, le=20, description="How many (1-20).")] = 8,
) -> Response:
    """Product names for a search box, as the shopper types: the search's ranking, the
    last word read as a word's start, typos tolerated; ids and names only."""
    async with db.transaction() as conn:
        words = await search.look_up_words(conn, query=q)
        page = await search.ranked_page_json(
            conn, currency=currency, words=words, offset=0, limit=limit, candidates=limit,
            suggestions=True,
        )  # fmt: skip
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


@router.post(
    "/v1/products",
    status_code=201,
    response_model=ProductModel,
    responses={409: {"description": "The SKU is taken"}},
)
async def create_product(body: NewProduct, db: StaffDb, currency: Currency) -> Response:
    """Add a product to the catalog (admins)."""
    product = await db.one(
        queries.insert_product_json, currency=currency, product=body.model_dump()
    )
    return raw_json(product, 201)


@router.patch(
    "/v1/products/{product_id}",
    response_model=ProductModel,
    responses={404: {"description": "No such product"}, 409: {"description": "The SKU is taken"}},
)
async def update_product(
    product_id: UUID, body: ProductChanges, db: StaffDb, currency: Currency
) -> Response:
    """Change a product (admins): only the fields sent. `null` clears `sku` and
    `compare_at_price`; `images` and `attributes` are replaced whole."""
    product = await db.one(
        queries.update_product_json,
        currency=currency,
        product_id=product_id,
        changes=body.changes(),
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


@router.get(
    "/v1/admin/products",
    response_model=AdminProductPage,
    dependencies=[known_parameters("state", "q", "sort", "limit", "cursor")],
)
async def list_admin_products(
    db: StaffDb,
    currency: Currency,
    state: Literal["active", "inactive", "deleted"] | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="A part of the name.")
    ] = None,
    sort: Literal["newest", "name", "stock"] = "newest",
    limit: Limit = 20,
    cursor: SortCursor = None,
) -> Response:
    """Every product with its state (admins): filter by state and by a part of the name
    (any case); newest first, by name, or by stock (lowest first)."""
    after = decode_sort_cursor(cursor, sort) if cursor else None
    page = await db.one(
        queries.list_admin_page_json, currency=currency, state=state, name_part=q, sort=sort,
        after=after, limit=limit,
    )  # fmt: skip
    return raw_json(page)


@router.post(
    "/v1/admin/products/{product_id}/restore",
    response_model=ProductModel,
    responses={404: {"description": "No such product"}, 409: {"description": "Not deleted"}},
)
async def restore_product(product_id: UUID, db: StaffDb, currency: Currency) -> Response:
    """Undo a soft delete (admins): the product is back in the catalog if it is active."""
    outcome = await db.one(queries.restore_product_json, currency=currency, product_id=product_id)
    match outcome:
        case queries.Restored(product):
            return raw_json(product)
        case queries.NotDeleted():
            raise Conflict("The product is not deleted.")
        case queries.NoSuchProduct():
            raise _missing()
        case _:
            assert_never(outcome)
