"""Stores written to stand for each shape of the contract's "What real stores look like".

None is copied from a real store: each is invented here, small, with the shape's traits
(its container, its field names, its money, dates, ids and status words, its password
scheme). The docstring of each says which shape it stands for.
"""

import json
from pathlib import Path
from typing import Any

from tests.importer import legacy_hashes as h

PASSWORD = "Old-Secret-42"


def _write(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2))


def express_directory(root: Path) -> Path:
    """An Express app's `data/` folder with the app's own file names: `customers.json`
    (users by name: `_id`, `fullName`, bcrypt in `passwordHash`, `isAdmin`), `golfs.json`
    (products by content: `title`, a price string with a currency sign, `countInStock`,
    brand, categories, images, an HTML entity in the description) and `purchases.json`
    (orders by name: `orderItems` holding an embedded copy of the product, `qty`,
    `totalPrice`, `orderDate`, status words in any case)."""
    _write(root / "data" / "customers.json", [
        {"_id": "c1", "fullName": "Ann Archer", "email": "Ann@Shop.test",
         "passwordHash": h.bcrypt_hash(PASSWORD), "isAdmin": True, "createdAt": "2023-01-05"},
        {"_id": "c2", "fullName": "Bob Baker", "email": "bob@shop.test",
         "passwordHash": h.bcrypt_hash(PASSWORD, "$2a$"), "isAdmin": False},
    ])  # fmt: skip
    _write(root / "data" / "golfs.json", [
        {"_id": "g1", "title": "Driver X", "price": "€249.90", "countInStock": 3,
         "brand": "Bell &#038; Ross", "categories": ["clubs", "drivers"],
         "images": ["/img/g1-a.jpg", "/img/g1-b.jpg"], "description": "Bell &#038; Ross driver"},
        {"_id": "g2", "title": "Balls (12)", "price": "19,50", "countInStock": -2, "rating": 4.5},
    ])  # fmt: skip
    _write(root / "data" / "purchases.json", [
        {"_id": "p1", "user": "c2", "orderDate": "2023-03-01T10:00:00Z", "status": "Delivered",
         "totalPrice": 288.9, "orderItems": [
             {"product": {"_id": "g1", "title": "Driver X", "price": 249.9}, "qty": 1},
             {"product": {"_id": "g2", "title": "Balls (12)", "price": 19.5}, "qty": 2}]},
        {"_id": "p2", "user": "c1", "orderDate": 1678000000, "status": "PROCESSING",
         "totalPrice": 19.5, "orderItems": [{"product": "g2", "qty": 1, "price": "19.50"}]},
    ])  # fmt: skip
    return root


def lowdb(root: Path) -> Path:
    """A json-server / lowdb `db.json`: collections under keys the app named (`users`,
    `items`, `orders`, `messages`) beside a metadata key; prices and order amounts in
    integer cents named so (`priceInCents`, `totalInCents`); guest orders with an embedded
    `customer: {fullName, email, phone, address}`, one of them the email of a registered
    user in another case; plain-text passwords; numeric ids; epoch-millisecond dates."""
    _write(root / "db.json", {
        "meta": {"version": 3, "generatedBy": "json-server"},
        "users": [{"id": 1, "email": "cy@shop.test", "password": PASSWORD, "firstName": "Cy",
                   "lastName": "Cole", "role": "customer"}],
        "items": [{"id": 7, "productName": "Tea tin", "priceInCents": 1250, "stockQuantity": 9,
                   "thumbnail": "/t/7.png", "sku": "TEA-7"}],
        "orders": [
            {"id": 501, "customer": {"fullName": "Dee Dale", "email": "dee@guest.test",
                                     "phone": "+00 0000", "address": "1 Road"},
             "lines": [{"productId": 7, "count": 2, "priceInCents": 1250}],
             "totalInCents": 2500, "status": "on-hold", "timestamp": 1700000000000},
            {"id": 502, "customer": {"fullName": "Cy Cole", "email": "CY@shop.test"},
             "lines": [{"productId": 7, "count": 1, "priceInCents": 1250}],
             "totalInCents": 1250, "status": "confirmed", "timestamp": 1700000100000},
        ],
        "messages": [{"id": 1, "name": "Eve", "email": "eve@x.test", "message": "Hello"}],
    })  # fmt: skip
    return root


def wrapped(root: Path) -> Path:
    """Files that wrap their array with metadata (`{"version": 2, "users": [...]}`,
    `{"data": [...]}`); Node `crypto.scryptSync` hex hashes in `salt:hash` form; string
    ids; the shop's status words (`dispatched`, `refunded`); `cartItems` with `quantity`."""
    _write(root / "users.json", {"version": 2, "updatedAt": "2024-05-01", "users": [
        {"id": "u-1", "email": "fay@shop.test", "name": "Fay",
         "password": h.node_scrypt_pair(PASSWORD)},
    ]})  # fmt: skip
    _write(root / "products.json", {"data": [
        {"id": "sku-1", "name": "Lamp", "price": 30, "stock": 5, "category": "home"},
    ]})  # fmt: skip
    _write(root / "orders.json", {"version": 2, "orders": [
        {"id": "o-1", "userId": "u-1", "status": "dispatched", "total": 60,
         "created_at": "2024-04-01 12:00:00", "cartItems": [{"productId": "sku-1", "quantity": 2}]},
        {"id": "o-2", "userId": "u-1", "status": "refunded", "total": 30,
         "created_at": "2024-04-02", "cartItems": [{"productId": "sku-1", "quantity": 1}]},
    ]})  # fmt: skip
    return root


def mongoexport(root: Path) -> Path:
    """`mongoexport` output: one object a line under `.json` names, MongoDB Extended JSON
    (`$oid` ids and references, `$date` as ISO text and as `$numberLong`, `$numberDecimal`
    prices, `$numberInt` stock and quantities), argon2 hashes in `password`."""
    user = "64b000000000000000000001"
    users = [
        {
            "_id": {"$oid": user},
            "email": "gus@shop.test",
            "name": "Gus",
            "password": h.argon2id(PASSWORD),
            "createdAt": {"$date": "2023-01-05T10:00:00Z"},
        }
    ]
    products = [
        {
            "_id": {"$oid": "64b0000000000000000000aa"},
            "name": "Kettle",
            "price": {"$numberDecimal": "19.90"},
            "stock": {"$numberInt": "3"},
        },
        {
            "_id": {"$oid": "64b0000000000000000000bb"},
            "name": "Cup",
            "price": {"$numberDecimal": "4.50"},
            "stock": {"$numberInt": "10"},
        },
    ]
    orders = [
        {
            "_id": {"$oid": "64b0000000000000000000f1"},
            "user": {"$oid": user},
            "status": "completed",
            "total": {"$numberDecimal": "28.90"},
            "createdAt": {"$date": {"$numberLong": "1672912800000"}},
            "products": [
                {
                    "product": {"$oid": "64b0000000000000000000aa"},
                    "quantity": {"$numberInt": "1"},
                    "price": {"$numberDecimal": "19.90"},
                },
                {
                    "product": {"$oid": "64b0000000000000000000bb"},
                    "quantity": {"$numberInt": "2"},
                    "price": {"$numberDecimal": "4.50"},
                },
            ],
        }
    ]
    for name, records in (("users", users), ("products", products), ("orders", orders)):
        root.mkdir(parents=True, exist_ok=True)
        (root / f"{name}.json").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root  # fmt: skip


def keyed(root: Path) -> Path:
    """A course-project store: `users.json` an object keyed by username (no email, plain
    passwords, `isAdmin`), `products.json` without ids (the title is the key), `cart.json`
    and `purchases.json` objects of line lists keyed by username, lines naming products by
    title, purchases with neither id, date nor status."""
    _write(root / "data" / "users.json", {
        "hal": {"username": "hal", "password": PASSWORD, "isAdmin": True},
        "ivy": {"username": "ivy", "password": "ivy-pass-1", "isAdmin": False},
    })  # fmt: skip
    _write(root / "data" / "products.json", [
        {"title": "Red Dunks", "price": 89.99, "image": "/i/red.jpg"},
        {"title": "Blue Dunks", "price": 69.99, "image": "/i/blue.jpg"},
    ])  # fmt: skip
    _write(root / "data" / "cart.json", {
        "hal": [], "ivy": [{"title": "Red Dunks", "price": 89.99, "quantity": 2, "size": "42"}],
    })  # fmt: skip
    _write(root / "data" / "purchases.json", {
        "ivy": [{"title": "Blue Dunks", "price": 69.99, "quantity": 1},
                {"title": "Red Dunks", "price": 89.99, "quantity": 1}],
    })  # fmt: skip
    return root


def needs_mapping(root: Path) -> Path:
    """A store no alias can read on its own (a French shop): products in `stock.json` with
    `libelle` and `prix` (cents), clients with `courriel`, orders in `commandes.json` with
    `client`, `articles` and the status word `expediee`, and a `favoris.json` the shop
    no longer needs. Its documented mapping (docs/import.md) is what `inspect` drafts."""
    _write(root / "stock.json", [{"ref": "A1", "libelle": "Savon", "prix": 450, "qte": 12}])
    _write(root / "clients.json", [{"num": 1, "courriel": "jo@shop.test", "nom": "Jo",
                                    "password": h.bcrypt_hash(PASSWORD)}])  # fmt: skip
    _write(root / "commandes.json", [{"num": 9, "client": 1, "etat": "expediee", "total": 900,
                                      "articles": [{"ref": "A1", "quantite": 2}]}])  # fmt: skip
    _write(root / "favoris.json", [{"client": 1, "ref": "A1"}])
    return root


# The blanks of the draft `inspect` writes for `needs_mapping`, as the owner fills them.
NEEDS_MAPPING_ANSWERS = {
    '"stock.json" = ""': '"stock.json" = "products"',
    '"commandes.json" = ""': '"commandes.json" = "orders"',
    '"favoris.json" = ""': '"favoris.json" = "skip"',
}
