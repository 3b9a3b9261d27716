"""The back office's catalog: every product with its state, restore, and what a product
page needs (images, attributes, SKU, compare-at price) with clear 422s and 409s."""

from typing import Any

import asyncpg
import httpx

from tests.factories import Account, make_product


async def create(client: httpx.AsyncClient, admin: Account, **body: Any) -> httpx.Response:
    return await client.post(
        "/v1/products", json={"name": "Bol", "price": "9.00", **body}, headers=admin.headers
    )


async def test_create_and_update_take_the_shop_page_fields(
    client: httpx.AsyncClient, admin: Account
) -> None:
    images = ["https://cdn.example.com/bol-1.jpg", "http://cdn.example.com/bol-2.png"]
    attributes = {"brand": "Gien", "categories": ["Cuisine", "Bols"], "diameter_cm": 14.5}
    created = await create(
        client, admin, images=images, attributes=attributes, sku="BOL-14",
        compare_at_price="12.5",
    )  # fmt: skip
    assert created.status_code == 201, created.text
    product = created.json()
    assert (product["images"], product["attributes"]) == (images, attributes)
    assert (product["sku"], product["compare_at_price"]) == ("BOL-14", "12.50")

    changed = await client.patch(
        f"/v1/products/{product['id']}",
        json={"images": images[::-1], "sku": None, "compare_at_price": None, "price": 8},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["images"], after["sku"], after["compare_at_price"]) == (images[::-1], None, None)
    assert (after["price"], after["attributes"]) == ("8.00", attributes)
    # The brand is searchable once saved.
    found = await client.get("/v1/products/search", params={"q": "gien"})
    assert [i["id"] for i in found.json()["items"]] == [product["id"]]


async def test_a_duplicate_sku_is_a_clear_409_whatever_the_case(
    client: httpx.AsyncClient, admin: Account
) -> None:
    first = await create(client, admin, sku="ab-1")
    assert first.status_code == 201
    again = await create(client, admin, sku="AB-1")
    assert again.status_code == 409
    assert "AB-1" in again.json()["detail"]
    other = (await create(client, admin, name="Tasse")).json()
    taken = await client.patch(
        f"/v1/products/{other['id']}", json={"sku": "Ab-1"}, headers=admin.headers
    )
    assert taken.status_code == 409


async def test_bad_shop_page_fields_are_422(client: httpx.AsyncClient, admin: Account) -> None:
    for body in (
        {"images": ["ftp://cdn.example.com/a.jpg"]},
        {"images": ["not a url"]},
        {"images": ["https://cdn.example.com/a.jpg"] * 21},
        {"images": "https://cdn.example.com/a.jpg"},
        {"attributes": {"brand": {"nested": "object"}}},
        {"attributes": {"bad key!": "x"}},
        {"attributes": {"notes": "x" * 501}},
        {"attributes": {f"k{i}": i for i in range(51)}},
        {"attributes": ["not", "an", "object"]},
        {"sku": ""},
        {"sku": "x" * 65},
        {"compare_at_price": "-1"},
        {"compare_at_price": "1.999"},
    ):
        response = await create(client, admin, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"], body


async def states(client: httpx.AsyncClient, admin: Account, **params: Any) -> dict[str, str]:
    response = await client.get("/v1/admin/products", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    return {item["name"]: item["state"] for item in response.json()["items"]}


async def test_admins_list_every_product_with_its_state(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    await make_product(db, name="Active bowl", stock=3)
    await make_product(db, name="Hidden bowl", active=False, stock=1)
    gone = await make_product(db, name="Gone cup", stock=9)
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", gone)

    assert await states(client, admin) == {
        "Active bowl": "active",
        "Hidden bowl": "inactive",
        "Gone cup": "deleted",
    }
    assert await states(client, admin, state="deleted") == {"Gone cup": "deleted"}
    assert await states(client, admin, state="inactive") == {"Hidden bowl": "inactive"}
    assert list(await states(client, admin, q="BOWL", sort="name")) == [
        "Active bowl",
        "Hidden bowl",
    ]
    assert await states(client, admin, q="%") == {}  # a wildcard is a character
    by_stock = await states(client, admin, sort="stock", limit=2)
    assert list(by_stock) == ["Hidden bowl", "Active bowl"]
    for params in ({"state": "gone"}, {"sort": "price"}, {"status": "deleted"}):
        refused = await client.get("/v1/admin/products", params=params, headers=admin.headers)
        assert refused.status_code == 422, params


async def test_restore_brings_a_deleted_product_back(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    product = await make_product(db, name="Comeback")
    assert (
        await client.delete(f"/v1/products/{product}", headers=admin.headers)
    ).status_code == 204
    assert (await client.get(f"/v1/products/{product}")).status_code == 404

    restored = await client.post(f"/v1/admin/products/{product}/restore", headers=admin.headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert (await client.get(f"/v1/products/{product}")).status_code == 200

    again = await client.post(f"/v1/admin/products/{product}/restore", headers=admin.headers)
    assert again.status_code == 409
    unknown = "00000000-0000-0000-0000-000000000000"
    missing = await client.post(f"/v1/admin/products/{unknown}/restore", headers=admin.headers)
    assert missing.status_code == 404
