"""Browsing the catalog as a storefront does: sorts, filters, counts, and 422 for what the
API does not understand."""

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from tests.factories import make_product

Params = dict[str, Any]


async def add(
    db: asyncpg.Connection,
    name: str,
    price: str,
    *,
    stock: int = 5,
    attributes: dict[str, Any] | None = None,
    age_minutes: int = 0,
) -> str:
    ident: UUID = await db.fetchval(
        "INSERT INTO products (name, price, stock, attributes, created_at)"
        " VALUES ($1, $2, $3, $4::jsonb, now() - make_interval(mins => $5)) RETURNING id",
        name,
        Decimal(price),
        stock,
        json.dumps(attributes or {}),
        age_minutes,
    )
    return str(ident)


@pytest.fixture
async def shelf(db: asyncpg.Connection) -> dict[str, str]:
    return {
        "bol": await add(db, "Bol", "12.00", attributes={"brand": "Gien", "colour": "bleu"}),
        "tasse": await add(
            db, "Tasse", "8.50", age_minutes=1,
            attributes={"brand": "Gien", "categories": ["Cuisine", "Tasses"], "size": 25},
        ),
        "assiette": await add(
            db, "Assiette", "15.00", stock=0, age_minutes=2, attributes={"brand": "Revol"}
        ),
        "verre": await add(db, "Verre", "4.20", age_minutes=3, attributes={"colour": "rouge"}),
    }  # fmt: skip


async def browse(client: httpx.AsyncClient, params: Params) -> dict[str, Any]:
    response = await client.get("/v1/products", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [item["name"] for item in (await browse(client, params))["items"]]


async def test_each_sort_orders_the_page(client: httpx.AsyncClient, shelf: dict[str, str]) -> None:
    assert await names(client) == ["Bol", "Tasse", "Assiette", "Verre"]
    assert await names(client, sort="newest") == ["Bol", "Tasse", "Assiette", "Verre"]
    assert await names(client, sort="price_asc") == ["Verre", "Tasse", "Bol", "Assiette"]
    assert await names(client, sort="price_desc") == ["Assiette", "Bol", "Tasse", "Verre"]
    assert await names(client, sort="name") == ["Assiette", "Bol", "Tasse", "Verre"]


async def test_filters_combine(client: httpx.AsyncClient, shelf: dict[str, str]) -> None:
    assert await names(client, min_price="8.50", max_price="12", sort="price_asc") == [
        "Tasse",
        "Bol",
    ]
    assert await names(client, in_stock="true", sort="name") == ["Bol", "Tasse", "Verre"]
    assert await names(client, **{"attr.brand": "Gien"}, sort="name") == ["Bol", "Tasse"]
    both = {"attr.brand": "Gien", "attr.colour": "bleu"}
    assert await names(client, **both) == ["Bol"]
    gien_under_10 = {"attr.brand": "Gien", "max_price": "10", "in_stock": "true"}
    assert await names(client, **gien_under_10) == ["Tasse"]


async def test_attribute_values_match_lists_numbers_and_alternatives(
    client: httpx.AsyncClient, shelf: dict[str, str]
) -> None:
    assert await names(client, **{"attr.categories": "Tasses"}) == ["Tasse"]
    assert await names(client, **{"attr.size": "25"}) == ["Tasse"]
    either: list[tuple[str, str | int | float | bool | None]] = [
        ("attr.colour", "bleu"), ("attr.colour", "rouge"), ("sort", "name")
    ]  # fmt: skip
    response = await client.get("/v1/products", params=either)
    assert [i["name"] for i in response.json()["items"]] == ["Bol", "Verre"]
    assert await names(client, **{"attr.brand": "gien"}) == []  # values are exact


async def test_the_count_is_exact_up_to_the_cap(
    client: httpx.AsyncClient, db: asyncpg.Connection, shelf: dict[str, str]
) -> None:
    page = await browse(client, {"limit": 1, "attr.brand": "Gien"})
    assert page["count"] == {"value": 2, "exact": True}
    await db.execute(
        "INSERT INTO products (name, price) SELECT 'Lot ' || n, 1 FROM generate_series(1, 1001) n"
    )
    page = await browse(client, {"limit": 1})
    assert page["count"] == {"value": 1000, "exact": False}


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc", "name"])
async def test_every_sort_pages_through_all_without_repeats(
    client: httpx.AsyncClient, db: asyncpg.Connection, sort: str
) -> None:
    # Ties on every sort key: the id breaks them, and the cursor must carry it.
    await db.execute(
        "INSERT INTO products (name, price, created_at)"
        " SELECT 'Même nom ' || (n % 3), (n % 4) + 0.5, now() - make_interval(secs => n % 2)"
        " FROM generate_series(1, 23) n"
    )
    seen: list[str] = []
    params: Params = {"sort": sort, "limit": 5, "in_stock": "false"}
    while True:
        page = await browse(client, params)
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 23


async def test_unknown_or_malformed_parameters_are_422(
    client: httpx.AsyncClient, shelf: dict[str, str]
) -> None:
    price_cursor = (await browse(client, {"sort": "price_asc", "limit": 1}))["next_cursor"]
    for params in (
        {"sort": "price"},
        {"min_prize": "3"},
        {"min_price": "cheap"},
        {"min_price": "-1"},
        {"min_price": "20", "max_price": "10"},
        {"in_stock": "maybe"},
        {"attr.": "x"},
        {"attr.br and": "x"},
        {"attr.brand": ""},
        {"cursor": price_cursor},  # a price cursor for the newest-first sort
        {"sort": "name", "cursor": "name:%%%.not-a-uuid"},
        {"limit": "0"},
    ):
        response = await client.get("/v1/products", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    unknown = await client.get("/v1/products", params={"colour": "bleu"})
    assert "colour" in unknown.json()["detail"]
    for path in ("/v1/products/search?q=a&sort=x", "/v1/products/suggest?q=a&cursor=1"):
        assert (await client.get(path)).status_code == 422, path


async def test_products_show_images_sku_and_compare_at_price(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await db.execute(
        "INSERT INTO products (name, price, compare_at_price, sku, images)"
        " VALUES ('Bol', 9, 12, 'BOL-1', ARRAY['https://cdn.example.com/a.jpg',"
        " 'https://cdn.example.com/b.jpg'])"
    )
    await db.execute("INSERT INTO products (name, price) VALUES ('Plain', 3)")
    items = {i["name"]: i for i in (await browse(client, {}))["items"]}
    assert items["Bol"]["images"] == [
        "https://cdn.example.com/a.jpg",
        "https://cdn.example.com/b.jpg",
    ]
    assert (items["Bol"]["sku"], items["Bol"]["compare_at_price"]) == ("BOL-1", "12.00")
    assert (items["Plain"]["images"], items["Plain"]["sku"]) == ([], None)
    assert items["Plain"]["compare_at_price"] is None
    one = (await client.get(f"/v1/products/{items['Bol']['id']}")).json()
    assert one["images"] == items["Bol"]["images"]


async def test_suggestions_complete_a_prefix_with_typos(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for name in ("Chaussure de randonnée", "Chaussette en laine", "Chapeau de paille"):
        await add(db, name, "10")
    for typed, first in (
        ("chau", None),
        ("chauss", None),
        ("chaussu", "Chaussure de randonnée"),
        ("chausur", "Chaussure de randonnée"),
        ("chapo", "Chapeau de paille"),
    ):
        response = await client.get("/v1/products/suggest", params={"q": typed, "limit": 5})
        assert response.status_code == 200
        items = response.json()["items"]
        assert items and set(items[0]) == {"id", "name"}, typed
        if first:
            assert items[0]["name"] == first, (typed, items)
    limited = await client.get("/v1/products/suggest", params={"q": "ch", "limit": 1})
    assert len(limited.json()["items"]) == 1
    nothing = await client.get("/v1/products/suggest", params={"q": "zzqx"})
    assert nothing.json() == {"items": []}


async def test_the_whole_catalogs_count_follows_every_way_a_product_goes_on_or_off_sale(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """The page without filters reads its count from catalog_counts, which triggers keep
    (revision 0018): after each change it is the number of products on sale."""

    async def counted() -> int:
        page = await browse(client, {"limit": 1})
        value: int = page["count"]["value"]
        on_sale = await db.fetchval(
            "SELECT count(*) FROM products WHERE active AND deleted_at IS NULL"
        )
        assert value == min(on_sale, 1000) and page["count"]["exact"] == (on_sale <= 1000)
        return value

    start = await counted()
    shown = await make_product(db, name="Shown")
    await make_product(db, name="Hidden", active=False)
    assert await counted() == start + 1
    await db.copy_records_to_table(
        "products", records=[("Copied A", 1), ("Copied B", 2)], columns=["name", "price"]
    )
    assert await counted() == start + 3
    await db.execute("UPDATE products SET active = false WHERE id = $1", shown)
    assert await counted() == start + 2
    await db.execute("UPDATE products SET active = true, stock = 0 WHERE id = $1", shown)
    assert await counted() == start + 3
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", shown)
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", shown)
    assert await counted() == start + 2
    await db.execute("UPDATE products SET deleted_at = NULL WHERE id = $1", shown)
    assert await counted() == start + 3
    await db.execute("UPDATE products SET stock = stock + 5")  # a sale or a restock
    assert await counted() == start + 3
    await db.execute("DELETE FROM products WHERE name LIKE 'Copied %'")
    assert await counted() == start + 1
    await db.execute(
        "INSERT INTO products (name, price) SELECT 'Lot ' || n, 1 FROM generate_series(1, 1001) n"
    )
    assert await counted() == 1000
    await db.execute("TRUNCATE products CASCADE")
    assert await counted() == 0
