"""Register, log in and out, the caller's profile."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response

from comptoir.auth import queries
from comptoir.auth.deps import CurrentCaller, CurrentUser
from comptoir.auth.schemas import Login, PasswordChange, Register, Token, User
from comptoir.auth.security import hash_password, issue_token, verify_password
from comptoir.db.deps import Pool
from comptoir.errors import Unauthorized
from comptoir.ratelimit import limited

router = APIRouter(tags=["auth"])

# Each route counts on its own: a customer who just registered can still log in.
register_limit = limited("register", lambda settings: settings.auth_rate_limit)
login_limit = limited("login", lambda settings: settings.auth_rate_limit)

WRONG_CREDENTIALS = "Wrong email or password."


@router.post(
    "/v1/auth/register",
    status_code=201,
    dependencies=[Depends(register_limit)],
    responses={409: {"description": "Email taken"}, 429: {"description": "Rate limited"}},
)
async def register(body: Register, pool: Pool) -> User:
    """Create a customer account. Emails compare case-insensitively."""
    password_hash = await hash_password(body.password)
    row = await queries.insert_user(
        pool, email=body.email.strip(), password_hash=password_hash, name=body.name or None
    )
    return User.model_validate(dict(row))


@router.post(
    "/v1/auth/login",
    dependencies=[Depends(login_limit)],
    responses={
        401: {"description": "Wrong email or password"},
        429: {"description": "Rate limited"},
    },
)
async def login(body: Login, request: Request, pool: Pool) -> Token:
    """Exchange email and password for a bearer token."""
    row = await queries.fetch_credentials(pool, email=body.email)
    verdict = await verify_password(row["password_hash"] if row else None, body.password)
    if row is None or not verdict.valid:
        raise Unauthorized(WRONG_CREDENTIALS)
    if verdict.new_hash:
        # A legacy bcrypt hash (or outdated argon2 parameters): replace it now that the
        # password is known to be right. Earlier tokens stay valid.
        await queries.update_password_hash(
            pool, user_id=row["id"], password_hash=verdict.new_hash, revoke_tokens=False
        )
    settings = request.app.state.settings
    token, _ = issue_token(
        request.app.state.jwt_secret,
        user_id=row["id"],
        generation=row["token_generation"],
        ttl=settings.token_ttl_seconds,
    )
    return Token(access_token=token, expires_in=settings.token_ttl_seconds)


@router.post("/v1/auth/logout", status_code=204, responses={401: {"description": "No token"}})
async def logout(caller: CurrentCaller, pool: Pool) -> Response:
    """End this token: it no longer works, whatever its expiry."""
    await queries.insert_revoked_token(
        pool,
        jti=caller.claims.jti,
        user_id=caller.user.id,
        expires_at=datetime.fromtimestamp(caller.claims.expires_at, UTC),
    )
    return Response(status_code=204)


@router.get("/v1/me", responses={401: {"description": "No token"}})
async def me(user: CurrentUser) -> User:
    """The caller's profile."""
    return user


@router.put(
    "/v1/me/password",
    status_code=204,
    responses={401: {"description": "No token, or wrong current password"}},
)
async def change_password(body: PasswordChange, user: CurrentUser, pool: Pool) -> Response:
    """Change the caller's password. Every token issued before stops working."""
    stored = await queries.fetch_password_hash(pool, user_id=user.id)
    if not (await verify_password(stored, body.current_password)).valid:
        raise Unauthorized("The current password is wrong.")
    await queries.update_password_hash(
        pool,
        user_id=user.id,
        password_hash=await hash_password(body.new_password),
        revoke_tokens=True,
    )
    return Response(status_code=204)
