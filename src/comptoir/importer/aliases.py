"""The usual spellings of each field, and a record read through them.

Field names compare without case, `_` or `-` (`user_id`, `userId`, `UserId` are one), so
each alias below is written once. The mapping file's `[fields.<collection>]` names a
field for what no alias knows; it is tried first. The first alias present with a value
wins; the others stay in the record (and so in the product's attributes and in every
record's source form).
"""

from difflib import get_close_matches
from functools import lru_cache
from typing import Any

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "users": {
        "id": ("id", "uuid", "userid", "uid", "key"),
        "email": ("email", "mail", "emailaddress", "useremail"),
        "username": ("username", "login", "handle", "user"),
        "password": ("password", "passwordhash", "hash", "hashedpassword", "pass", "pwd",
                     "passwordhashed", "encryptedpassword", "passwd"),
        "salt": ("salt", "passwordsalt"),
        "name": ("name", "fullname", "displayname"),
        "first_name": ("firstname", "fname", "givenname"),
        "last_name": ("lastname", "lname", "surname", "familyname"),
        "role": ("role", "usertype", "type"),
        "is_admin": ("isadmin", "admin"),
        "created_at": ("createdat", "created", "date", "registeredat", "joinedat", "timestamp"),
    },
    "products": {
        "id": ("id", "productid", "uuid", "sku", "code", "slug", "key"),
        "name": ("name", "title", "productname", "label"),
        "description": ("description", "desc", "details", "body"),
        "price": ("price", "unitprice", "saleprice", "amount", "cost"),
        "price_cents": ("priceincents", "pricecents", "amountincents", "amountcents"),
        "stock": ("stock", "countinstock", "stockquantity", "inventory", "quantity", "qty",
                  "instock", "available"),
        "active": ("active", "isactive", "enabled", "published", "status"),
        "created_at": ("createdat", "created", "date", "timestamp"),
        "deleted_at": ("deletedat",),
    },
    "orders": {
        "id": ("id", "orderid", "ordernumber", "uuid", "number", "key"),
        "user": ("userid", "user", "customerid", "owner", "buyer", "buyerid", "customer",
                 "ownerid", "contact", "key"),
        "email": ("email", "useremail", "customeremail", "buyeremail"),
        "name": ("name", "username", "customername", "fullname"),
        "lines": ("items", "products", "lines", "orderitems", "cartitems", "cart", "lineitems"),
        "status": ("status", "orderstatus", "state"),
        "total": ("total", "totalprice", "totalamount", "amount", "grandtotal", "totalcost",
                  "ordertotal"),
        "total_cents": ("totalincents", "totalcents", "amountincents"),
        "created_at": ("createdat", "created", "date", "orderdate", "timestamp", "placedat",
                       "orderedat"),
        "payment_intent": ("paymentintentid", "paymentintent"),
    },
    "carts": {
        "user": ("userid", "user", "customerid", "owner", "ownerid", "key"),
        "lines": ("items", "products", "lines", "cartitems", "cart", "lineitems"),
        "updated_at": ("updatedat", "createdat", "date", "timestamp"),
    },
    "lines": {
        "product": ("productid", "product", "itemid", "id", "sku", "item"),
        "name": ("name", "title", "productname", "itemname"),
        "quantity": ("quantity", "qty", "count", "amount"),
        "price": ("unitprice", "price", "priceatpurchase", "unitamount"),
        "price_cents": ("unitpriceincents", "priceincents", "pricecents"),
    },
    "leads": {
        "id": ("id", "uuid", "key"),
        "name": ("name", "fullname", "yourname"),
        "email": ("email", "mail", "emailaddress"),
        "message": ("message", "text", "body", "content", "subject"),
        "created_at": ("createdat", "created", "date", "timestamp"),
    },
    "analytics": {},
}  # fmt: skip

# The aliases that are amounts in cents by their name.
CENTS = {"price_cents", "total_cents"}


@lru_cache(maxsize=4096)  # called for every field of every record; names repeat
def norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


class View:
    """A source record read through the aliases of its collection and the mapping file."""

    def __init__(
        self, record: dict[str, Any], aliases: dict[str, tuple[str, ...]], mapped: dict[str, str]
    ) -> None:
        self.record = record
        self.aliases = aliases
        self.mapped = mapped
        self.index = {norm(key): key for key in reversed(record)}  # the first spelling wins
        self.used: set[str] = set()

    def field(self, canonical: str) -> str | None:
        """The name of the source field that gives `canonical`, if one does."""
        if canonical in self.mapped:
            names: tuple[str, ...] = (norm(self.mapped[canonical]),)
        else:
            names = self.aliases.get(canonical, ())
        for name in names:
            key = self.index.get(name)
            if key is not None and self.record[key] not in (None, ""):
                return key
        return None

    def get(self, canonical: str) -> Any:
        key = self.field(canonical)
        if key is None:
            return None
        self.used.add(key)
        return self.record[key]

    def rest(self) -> dict[str, Any]:
        return {key: value for key, value in self.record.items() if key not in self.used}

    def missing(self, canonical: str, collection: str) -> str:
        """Why `canonical` was not found, with the near miss and the mapping line that fixes it."""
        expected = self.mapped.get(canonical) or ", ".join(self.aliases.get(canonical, ())[:4])
        names = (
            (norm(self.mapped[canonical]),)
            if canonical in self.mapped
            else self.aliases.get(canonical, ())
        )
        empty = [self.index[n] for n in names if n in self.index]
        if empty:
            return f"no {canonical}: {empty[0]} is empty"
        seen = [key for key in self.record if key not in self.used]
        near = get_close_matches(
            norm(canonical), [norm(k) for k in seen], n=1, cutoff=0.6
        ) or get_close_matches(expected.split(",")[0], [norm(k) for k in seen], n=1, cutoff=0.6)
        hint = ""
        if near:
            original = next(k for k in seen if norm(k) == near[0])
            hint = f'; did you mean "{original}"? [fields.{collection}] {canonical} = "{original}"'
        else:
            hint = f'; name it in the mapping file: [fields.{collection}] {canonical} = "..."'
        shown = ", ".join(seen[:8]) or "none"
        return f"no {canonical} (expected {expected}; fields seen: {shown}){hint}"
