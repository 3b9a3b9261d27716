"""The catalog surface. Responses are built by PostgreSQL; these models document them."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Money = Annotated[
    str, Field(pattern=r"^\d{1,10}\.\d{2}$", examples=["19.90"], description="Decimal string.")
]
PriceIn = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), decimal_places=2)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
Stock = Annotated[int, Field(ge=0, le=2_000_000_000)]

MAX_IMAGES = 20
MAX_ATTRIBUTES = 50
ImageUrl = Annotated[
    str,
    StringConstraints(max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$"),
    Field(examples=["https://cdn.example.com/mug-1.jpg"], description="An http(s) URL."),
]
Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
    Field(description="Unique across products, whatever the case (`ab-1` is `AB-1`)."),
]
AttributeKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Scalar = Annotated[str, Field(max_length=500)] | bool | int | float
AttributeValue = Scalar | Annotated[list[Scalar], Field(max_length=50)]
Attributes = Annotated[
    dict[AttributeKey, AttributeValue],
    Field(
        max_length=MAX_ATTRIBUTES,
        description=(
            "What the shop keeps beyond the columns: brand, category or categories,"
            " colour, size... Keys of letters, digits, `_` and `-` (at most 64, and at most"
            f" {MAX_ATTRIBUTES} keys); values strings (500 characters at most), numbers,"
            " booleans, or lists of those (50 at most). `brand`, `category`, `categories`"
            " and `collection` are searched."
        ),
        examples=[{"brand": "Gien", "categories": ["Cuisine", "Tasses"], "colour": "bleu"}],
    ),
]
Images = Annotated[
    list[ImageUrl],
    Field(
        max_length=MAX_IMAGES, description=f"Image URLs, in display order ({MAX_IMAGES} at most)."
    ),
]


class Product(BaseModel):
    id: UUID
    name: str
    description: str
    price: Money
    compare_at_price: Money | None = Field(description='The "was" price, when there is one.')
    currency: str
    stock: int
    active: bool
    sku: str | None
    images: list[str] = Field(description="Image URLs in display order; [] when none.")
    attributes: Attributes = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class Count(BaseModel):
    value: int = Field(description="How many products match, or at least how many.")
    exact: bool = Field(description="False when there are more than `value` (the cap).")


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None


class BrowsePage(ProductPage):
    count: Count


class AdminProduct(Product):
    state: Literal["active", "inactive", "deleted"]


class AdminProductPage(BaseModel):
    items: list[AdminProduct]
    next_cursor: str | None


class Suggestion(BaseModel):
    id: UUID
    name: str


class Suggestions(BaseModel):
    items: list[Suggestion]


class NewProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    price: PriceIn = Field(description="Decimal string or number, two places at most.")
    compare_at_price: PriceIn | None = None
    stock: Stock = 0
    active: bool = True
    sku: Sku | None = None
    images: Images = []
    attributes: Attributes = {}


class ProductChanges(BaseModel):
    """Only the fields sent change. `null` clears `sku` and `compare_at_price`; `images`
    and `attributes` are replaced as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    price: PriceIn | None = None
    compare_at_price: PriceIn | None = None
    stock: Stock | None = None
    active: bool | None = None
    sku: Sku | None = None
    images: Images | None = None
    attributes: Attributes | None = None

    def changes(self) -> dict[str, object]:
        clearable = {"sku", "compare_at_price"}
        return {
            k: v
            for k, v in self.model_dump(exclude_unset=True, mode="python").items()
            if v is not None or k in clearable
        }
