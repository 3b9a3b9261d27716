"""The accounts surface."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

# The bounds of auth/passwords.py, in the OpenAPI document; the rest of the policy is
# checked by the routes, which know the email and the shop's name.
Password = Annotated[str, Field(min_length=8, max_length=256)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
Role = Literal["admin", "customer"]


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    password: Password
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Annotated[str, Field(min_length=1, max_length=256)]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Password


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="One use: POST it to /v1/auth/refresh for a new access token and a new"
        " refresh token. Using a spent one again ends the session."
    )
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class BrowserSession(BaseModel):
    csrf_token: str = Field(
        description="Send it as the X-CSRF-Token header on every POST, PUT, PATCH and DELETE"
        " made with the session cookie."
    )
    expires_in: int = Field(description="Seconds until the session ends.")


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class User(BaseModel):
    id: UUID
    email: str
    role: Role
    name: str | None
    created_at: datetime
    email_verified: bool = Field(
        False, description="Whether the address was confirmed by a link sent to it."
    )
