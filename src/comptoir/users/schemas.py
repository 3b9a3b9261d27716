"""The user administration surface."""

from pydantic import BaseModel, ConfigDict

from comptoir.auth.schemas import Role, User


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
