"""Each shape of the contract's "What real stores look like" (tests/importer/shapes.py)
imported without a mapping file where aliases suffice, and with the documented mapping
otherwise, then checked row by row and through the API."""

import json
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

from comptoir.importer import mapping as import_mapping
from tests.importer import shapes
from tests.importer.conftest import login, rejects, run_import

PASSWORD = shapes.PASSWORD


async def products(idb: asyncpg.Connection) -> dict[str, tuple[str, Decimal, int, str]]:
    """Each product by legacy id: name, price, stock, and its attributes as JSON text."""
    rows = await idb.fetch("SELECT legacy_id, name, price, stock, attributes FROM products")
    return {r["legacy_id"]: (r["name"], r["price"], r["stock"], r["attributes"]) for r in rows}


async def orders(idb: asyncpg.Connection) -> dict[str, tuple[str, Decimal, str, list[str]]]:
    rows = await idb.fetch(
        "SELECT o.legacy_id, o.status::text, o.total_amount, u.email::text,"
        " (SELECT array_agg(p.legacy_id || ' x' || i.quantity || ' @' || i.unit_price"
        "   ORDER BY p.legacy_id) FROM order_items i JOIN products p ON p.id = i.product_id"
        "   WHERE i.order_id = o.id) AS lines"
        " FROM orders o JOIN users u ON u.id = o.user_id"
    )
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


async def test_an_express_data_folder_with_the_apps_own_file_names(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    report = await run_import(import_url, shapes.express_directory(tmp_path / "s"))

    assert report.exit_code() == 0 and report.complete(), rejects(report)
    rules = {f.name: (f.collection, f.rule) for f in report.files}
    assert rules["data/customers.json"] == ("users", 'name "customers"')
    assert rules["data/golfs.json"][0] == "products"
    assert rules["data/golfs.json"][1].startswith("content: records hold a price")
    found = await products(idb)
    assert found["g1"][:3] == ("Driver X", Decimal("249.90"), 3)
    assert json.loads(found["g1"][3]) == {
        "brand": "Bell &#038; Ross",
        "categories": ["clubs", "drivers"],
        "images": ["/img/g1-a.jpg", "/img/g1-b.jpg"],
    }
    assert found["g2"][:3] == ("Balls (12)", Decimal("19.50"), 0)  # negative stock: 0
    assert await orders(idb) == {
        "p1": ("shipped", Decimal("288.90"), "bob@shop.test", ["g1 x1 @249.90", "g2 x2 @19.50"]),
        "p2": ("paid", Decimal("19.50"), "ann@shop.test", ["g2 x1 @19.50"]),
    }
    assert (
        await idb.fetchval("SELECT role::text FROM users WHERE email = 'ann@shop.test'") == "admin"
    )
    assert await idb.fetchval("SELECT description FROM products WHERE legacy_id = 'g1'") == (
        "Bell & Ross driver"
    )
    assert await login(shop, "ann@shop.test", PASSWORD) == 200
    # The API returns the attributes a client reads.
    product_id = await idb.fetchval("SELECT id FROM products WHERE legacy_id = 'g1'")
    body = (await shop.get(f"/v1/products/{product_id}")).json()
    assert body["attributes"]["brand"] == "Bell &#038; Ross"


async def test_a_lowdb_file_with_guest_orders_and_cents(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    report = await run_import(import_url, shapes.lowdb(tmp_path / "s"))

    assert report.exit_code() == 0, rejects(report)
    assert ("db.json:meta", "metadata (not records): kept in the report only") in report.skipped
    assert (await products(idb))["7"][:3] == ("Tea tin", Decimal("12.50"), 9)
    assert await orders(idb) == {
        "501": ("pending", Decimal("25.00"), "dee@guest.test", ["7 x2 @12.50"]),
        # The guest's email is a registered user's: the order is that account's.
        "502": ("paid", Decimal("12.50"), "cy@shop.test", ["7 x1 @12.50"]),
    }
    guest = await idb.fetchrow(
        "SELECT name, password_hash FROM users WHERE email = 'dee@guest.test'"
    )
    assert guest is not None
    assert guest["name"] == "Dee Dale" and guest["password_hash"] is None
    assert report.guest_accounts == 1 and report.no_password == ["dee@guest.test"]
    assert await idb.fetchval("SELECT count(*) FROM users") == 2
    assert await idb.fetchval("SELECT name FROM users WHERE email = 'cy@shop.test'") == "Cy Cole"
    assert await idb.fetchval("SELECT email FROM leads") == "eve@x.test"
    assert await login(shop, "cy@shop.test", PASSWORD) == 200


async def test_wrapped_arrays_with_node_scrypt_hashes_and_shop_status_words(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    report = await run_import(import_url, shapes.wrapped(tmp_path / "s"))

    assert report.exit_code() == 0, rejects(report)
    forms = {f.name: f.form for f in report.files}
    assert forms["users.json:users"] == "array wrapped in an object"
    assert forms["products.json:data"] == "array wrapped in an object"
    assert await orders(idb) == {
        "o-1": ("shipped", Decimal("60.00"), "fay@shop.test", ["sku-1 x2 @30.00"]),
        "o-2": ("cancelled", Decimal("30.00"), "fay@shop.test", ["sku-1 x1 @30.00"]),
    }
    legacy = json.loads((tmp_path / "s" / "users.json").read_text())["users"][0]["password"]
    assert await login(shop, "fay@shop.test", legacy) == 401  # the salt:hash string itself
    assert await login(shop, "fay@shop.test", PASSWORD) == 200


async def test_mongoexport_ndjson_with_extended_json(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    report = await run_import(import_url, shapes.mongoexport(tmp_path / "s"))

    assert report.exit_code() == 0, rejects(report)
    # A one-line export is one object: read as a single record, which it is.
    assert {f.form for f in report.files} == {"NDJSON", "single record"}
    found = await products(idb)
    assert found["64b0000000000000000000aa"][1:3] == (Decimal("19.90"), 3)
    [(status, total, email, lines)] = (await orders(idb)).values()
    assert (status, total, email) == ("shipped", Decimal("28.90"), "gus@shop.test")
    assert lines == ["64b0000000000000000000aa x1 @19.90", "64b0000000000000000000bb x2 @4.50"]
    assert str(await idb.fetchval("SELECT created_at FROM orders")) == "2023-01-05 10:00:00+00:00"
    assert await login(shop, "gus@shop.test", PASSWORD) == 200


async def test_records_keyed_by_username_with_products_named_by_title(
    idb: asyncpg.Connection, import_url: str, shop: httpx.AsyncClient, tmp_path: Path
) -> None:
    report = await run_import(import_url, shapes.keyed(tmp_path / "s"))

    assert report.exit_code() == 0, rejects(report)
    emails = {r[0]: r[1] for r in await idb.fetch("SELECT legacy_id, email::text FROM users")}
    assert emails == {"hal": "hal@no-email.invalid", "ivy": "ivy@no-email.invalid"}
    assert await idb.fetchval(
        "SELECT sum(i.quantity) FROM cart_items i JOIN carts c ON c.id = i.cart_id"
        " JOIN users u ON u.id = c.user_id WHERE u.legacy_id = 'ivy'"
    ) == 2  # fmt: skip
    [(status, total, email, lines)] = (await orders(idb)).values()
    assert (status, total, email) == ("pending", Decimal("159.98"), "ivy@no-email.invalid")
    assert lines == ["Blue Dunks x1 @69.99", "Red Dunks x1 @89.99"]
    assert report.collections["orders"].notes["no date: the import's time used"] == 1
    assert await login(shop, "hal@no-email.invalid", PASSWORD) == 200


async def test_a_store_no_alias_reads_imports_with_its_documented_mapping(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = shapes.needs_mapping(tmp_path / "s")
    bare = await run_import(import_url, store, dry_run=True)
    # clients.json is users by name; its fields and the three other files need the mapping.
    assert bare.exit_code() == 4 and len(bare.not_understood) == 3

    map_file = tmp_path / "map.toml"
    map_file.write_text(NEEDS_MAPPING)
    report = await run_import(import_url, store, mapping=import_mapping.load(map_file))

    assert report.exit_code() == 0, rejects(report)
    assert (await products(idb))["A1"][:3] == ("Savon", Decimal("4.50"), 12)
    assert await orders(idb) == {"9": ("shipped", Decimal("9.00"), "jo@shop.test", ["A1 x2 @4.50"])}
    kept = await idb.fetchval(
        "SELECT source FROM import_sources WHERE collection = 'skipped:favoris.json'"
    )
    assert kept == '{"ref": "A1", "client": 1}'


# The mapping docs/import.md prints for this shop (the same text, kept in step by hand).
NEEDS_MAPPING = """
price_unit = "cents"

[collections]
"stock.json" = "products"
"clients.json" = "users"
"commandes.json" = "orders"
"favoris.json" = "skip"

[fields.products]
id = "ref"
name = "libelle"
price = "prix"
stock = "qte"

[fields.users]
id = "num"
email = "courriel"
name = "nom"

[fields.orders]
id = "num"
user = "client"
status = "etat"
lines = "articles"

[fields.lines]
product = "ref"
quantity = "quantite"

[statuses]
expediee = "shipped"
"""


async def test_a_single_record_file_is_read_and_its_missing_owner_named(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    """A one-cart app's `cart.json`: one object, the cart itself, with no owner."""
    store = tmp_path / "s"
    store.mkdir()
    (store / "cart.json").write_text('{"products": [{"id": "0.93", "qty": 1}], "totalPrice": 20}')
    report = await run_import(import_url, store)

    assert [(f.form, f.collection) for f in report.files] == [("single record", "carts")]
    [reject] = rejects(report)
    assert reject["reason"].startswith("no user (expected userid, user, customerid, owner;")
    assert "[fields.carts] user = " in reject["reason"]
    assert report.exit_code() == 3  # the whole collection rejected: not a success


async def test_all_or_nothing_commits_nothing_when_a_record_is_rejected(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = shapes.lowdb(tmp_path / "s")
    document = json.loads((store / "db.json").read_text())
    document["items"].append({"id": 8, "productName": "Broken", "priceInCents": "free"})
    (store / "db.json").write_text(json.dumps(document))
    report = await run_import(import_url, store, all_or_nothing=True)

    assert report.exit_code() == 3 and not report.committed
    assert await idb.fetchval("SELECT count(*) FROM products") == 0
    assert await idb.fetchval("SELECT count(*) FROM import_sources") == 0
