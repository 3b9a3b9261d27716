"""The import fills the catalog's images and SKU from the legacy fields it recognises."""

import json
from pathlib import Path

import asyncpg

from tests.importer.conftest import rejects, run_import


async def test_images_and_skus_come_from_the_legacy_fields(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    (root / "data").mkdir(parents=True)
    products = [
        {"_id": "p1", "name": "Bol", "price": 9, "SKU": "BOL-1",
         "images": ["https://cdn.example.com/bol-a.jpg", "/img/relative.jpg",
                    "https://cdn.example.com/bol-b.jpg"]},
        {"_id": "p2", "name": "Tasse", "price": 5, "sku": "bol-1",
         "image": {"url": "http://cdn.example.com/tasse.png"}},
        {"_id": "p3", "name": "Verre", "price": 3, "sku": 1234},
        {"_id": "p4", "name": "Plat", "price": 12, "brand": "Gien"},
    ]  # fmt: skip
    (root / "data" / "products.json").write_text(json.dumps(products))

    report = await run_import(import_url, root)

    assert report.exit_code() == 0 and report.complete(), rejects(report)
    rows = await idb.fetch("SELECT legacy_id, images, sku, attributes FROM products ORDER BY id")
    found = {r["legacy_id"]: (r["images"], r["sku"]) for r in rows}
    assert {k: images for k, (images, _) in found.items()} == {
        "p1": ["https://cdn.example.com/bol-a.jpg", "https://cdn.example.com/bol-b.jpg"],
        "p2": ["http://cdn.example.com/tasse.png"],
        "p3": [],
        "p4": [],
    }
    assert (found["p3"][1], found["p4"][1]) == ("1234", None)
    # "BOL-1" and "bol-1" are one SKU: the first product by id keeps it, the other has it
    # in its attributes only.
    first, second = [r["legacy_id"] for r in rows if r["legacy_id"] in ("p1", "p2")]
    assert found[first][1] == {"p1": "BOL-1", "p2": "bol-1"}[first]
    assert found[second][1] is None
    attributes = {r["legacy_id"]: json.loads(r["attributes"]) for r in rows}
    assert attributes["p1"]["SKU"] == "BOL-1"  # the legacy fields stay as they were
