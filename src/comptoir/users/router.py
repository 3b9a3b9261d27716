"""User administration (admins only)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from comptoir.auth.deps import AdminUser, StaffDb
from comptoir.auth.schemas import User
from comptoir.errors import Conflict, NotFound, Responses
from comptoir.pagination import Cursor, Limit
from comptoir.users import queries
from comptoir.users.schemas import RoleChange, UserPage

router = APIRouter(tags=["admin"])

ADMIN_ONLY: Responses = {401: {"description": "No token"}, 403: {"description": "Not an admin"}}


def _not_yourself(admin: User, user_id: UUID, what: str) -> None:
    # An admin who demotes or deletes themselves could leave the shop without any admin.
    if admin.id == user_id:
        raise Conflict(f"You cannot {what} your own account; ask another admin.")


@router.get("/v1/admin/users", responses=ADMIN_ONLY)
async def list_users(
    db: StaffDb,
    limit: Limit = 20,
    cursor: Cursor = None,
    email: Annotated[
        str | None,
        Query(min_length=1, max_length=320, description="Only emails that contain this, any case."),
    ] = None,
) -> UserPage:
    """All users, by email; `email` searches (a part of the address is enough)."""
    rows = await db.one(queries.list_users, after_email=cursor, limit=limit, email_part=email)
    users = rows[:limit]
    return UserPage(items=users, next_cursor=users[-1].email if len(rows) > limit else None)


@router.patch(
    "/v1/admin/users/{user_id}",
    responses={**ADMIN_ONLY, 404: {"description": "No such user"}, 409: {"description": "Self"}},
)
async def change_role(user_id: UUID, body: RoleChange, admin: AdminUser, db: StaffDb) -> User:
    """Make a user an admin or a customer."""
    if body.role != "admin":
        _not_yourself(admin, user_id, "demote")
    user = await db.one(queries.update_role, user_id=user_id, role=body.role)
    if user is None:
        raise NotFound("No such user.")
    return user


@router.delete(
    "/v1/admin/users/{user_id}",
    status_code=204,
    responses={
        **ADMIN_ONLY,
        404: {"description": "No such user"},
        409: {"description": "The user has orders, or is yourself"},
    },
)
async def delete_user(user_id: UUID, admin: AdminUser, db: StaffDb) -> Response:
    """Delete a user. Their cart goes with them and their events lose their user; a user
    with orders is refused with 409, since order history is kept."""
    _not_yourself(admin, user_id, "delete")
    if not await db.one(queries.delete_user, user_id=user_id):
        raise NotFound("No such user.")
    return Response(status_code=204)
