"""An address as the API takes it: validated once here, stored as given."""

import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# ISO 3166-1 alpha-2, the 249 assigned codes (Debian's iso-codes, 2024).
COUNTRIES = frozenset(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
        "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
        "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
        "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
        "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
        "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
        "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
        "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
        "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
    ).split()
)


def _country(value: str) -> str:
    code = value.upper()
    if code not in COUNTRIES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, such as FR or DE")
    return code


def _phone(value: str | None) -> str | None:
    # E.164 allows 15 digits; people write spaces, dots, dashes and brackets between them.
    if value is None:
        return None
    digits = re.sub(r"[\s.()-]", "", value)
    if not re.fullmatch(r"\+?[0-9]{4,15}", digits):
        raise ValueError("must be a phone number: digits, an optional leading +, 4 to 15 digits")
    return value


def _text(max_length: int) -> object:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Country = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=2),
    AfterValidator(_country),
    Field(description="ISO 3166-1 alpha-2 code (FR, DE, US...)."),
]
Phone = Annotated[
    str | None,
    StringConstraints(strip_whitespace=True, max_length=40),
    AfterValidator(_phone),
]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, _text(200)] = Field(description="Who receives the parcel.")
    line1: Annotated[str, _text(200)]
    line2: Annotated[str, _text(200)] | None = None
    postal_code: Annotated[str, _text(20)]
    city: Annotated[str, _text(100)]
    country: Country
    phone: Phone = None


class SavedAddress(Address):
    id: UUID
    created_at: datetime


class AddressList(BaseModel):
    items: list[SavedAddress]
