"""Who is calling: `CurrentUser` (401 without a good token) and `AdminUser` (403 for others).

The token comes from the Authorization header, or else from the back office's session
cookie (`auth/cookie.py`), whose unsafe requests must carry the CSRF header.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from comptoir.auth import queries
from comptoir.auth.cookie import SESSION_COOKIE, csrf_ok
from comptoir.auth.schemas import User
from comptoir.auth.security import Claims, read_token
from comptoir.db.door import Door, customer
from comptoir.deps import DoorsDep, JwtKeys, PublicDb, get_replicas
from comptoir.errors import Forbidden, Unauthorized

bearer = HTTPBearer(auto_error=False, description="The access_token from /v1/auth/login.")


@dataclass(frozen=True)
class Caller:
    user: User
    claims: Claims


async def get_caller(
    request: Request,
    db: PublicDb,
    jwt_keys: JwtKeys,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    from_cookie = credentials is None
    token = request.cookies.get(SESSION_COOKIE) if credentials is None else credentials.credentials
    if token is None:
        raise Unauthorized("Authentication required: send Authorization: Bearer <token>.")
    claims = read_token(jwt_keys, token)
    if claims is None:
        raise Unauthorized()
    # The CSRF token is derived under the current key (jwt_keys[0]), as the session gave it.
    if from_cookie and not csrf_ok(request, jwt_keys[0], claims.jti):
        raise Forbidden("A request signed in by cookie must send the X-CSRF-Token header.")
    user = await db.one(
        queries.fetch_token_user,
        user_id=claims.user_id,
        generation=claims.generation,
        jti=claims.jti,
        session_id=claims.session_id,
    )
    if user is None:
        raise Unauthorized()
    return Caller(user, claims)


async def get_current_user(caller: Annotated[Caller, Depends(get_caller)]) -> User:
    return caller.user


async def get_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    if user.role != "admin":
        raise Forbidden("This route is for administrators.")
    return user


CurrentCaller = Annotated[Caller, Depends(get_caller)]
CurrentUser = Annotated[User, Depends(get_current_user)]
AdminUser = Annotated[User, Depends(get_admin)]


async def get_optional_user(
    request: Request,
    db: PublicDb,
    jwt_keys: JwtKeys,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User | None:
    """On public routes a token only widens what is shown; a bad one counts as none."""
    if credentials is None and SESSION_COOKIE not in request.cookies:
        return None
    try:
        return (await get_caller(request, db, jwt_keys, credentials)).user
    except (Unauthorized, Forbidden):
        return None


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_customer_db(doors: DoorsDep, user: CurrentUser) -> Door:
    return doors.to(customer(user.id, user.role))


async def get_staff_db(doors: DoorsDep, admin: AdminUser) -> Door:
    return doors.to(customer(admin.id, admin.role))


async def get_staff_read_db(request: Request, doors: DoorsDep, admin: AdminUser) -> Door:
    """The back office's door for analytics reads: on a replica when there are some. The
    admin's token was checked on the primary, as every token is."""
    replicas = await get_replicas(request)
    staff = doors.to(customer(admin.id, admin.role))
    return staff if replicas is None else replicas.to(customer(admin.id, admin.role), staff)


# A signed-in caller: their own rows (and, for an admin, the back office's).
CustomerDb = Annotated[Door, Depends(get_customer_db)]
# An admin: the back office's rows; 401 without a token, 403 for a customer.
StaffDb = Annotated[Door, Depends(get_staff_db)]
# An admin reading analytics, which may come from a replica.
StaffReadDb = Annotated[Door, Depends(get_staff_read_db)]
