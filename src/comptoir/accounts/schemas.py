"""The account-recovery surface."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from comptoir.auth.schemas import Email, Password

LinkToken = Annotated[str, Field(min_length=1, max_length=200)]


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class ResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: LinkToken = Field(description="The `token` of the link in the reset mail.")
    new_password: Password


class VerifyEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: LinkToken = Field(description="The `token` of the link in the verification mail.")


class EmailChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_email: EmailStr = Field(max_length=320)
    current_password: Annotated[str, Field(min_length=1, max_length=256)]


class Accepted(BaseModel):
    detail: str = Field(description="What happens next, the same whatever the account.")


class ProfileChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        description="The customer's name; null or empty removes it."
    )


class Erasure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, Field(min_length=1, max_length=256)]
