"""Register, log in and out, the caller's profile."""

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from limits import parse

from comptoir.auth import queries
from comptoir.auth.deps import CurrentCaller, CurrentUser, CustomerDb
from comptoir.auth.passwords import check_password
from comptoir.auth.schemas import Login, PasswordChange, Register, Token, User
from comptoir.auth.security import hash_password, issue_token, verify_password
from comptoir.deps import JwtSecret, PublicDb, RateLimitsDep, SettingsDep
from comptoir.errors import Unauthorized
from comptoir.ratelimit import client_address, limited

router = APIRouter(tags=["auth"])

# Each route counts on its own: a customer who just registered can still log in.
register_limit = limited("register", lambda settings: settings.auth_rate_limit)
login_limit = limited("login", lambda settings: settings.auth_rate_limit)

WRONG_CREDENTIALS = "Wrong email or password."
# How long an address where an account logged in stays "the customer's" for that account.
KNOWN_ADDRESS = parse("1/30 days")


@router.post(
    "/v1/auth/register",
    status_code=201,
    dependencies=[Depends(register_limit)],
    responses={
        409: {"description": "Email taken"},
        422: {"description": "Not valid, or the password breaks the policy"},
        429: {"description": "Rate limited"},
    },
)
async def register(body: Register, db: PublicDb, settings: SettingsDep) -> User:
    """Create a customer account. Emails compare case-insensitively. The password: 8 to 256
    characters, not only whitespace, not a common password, not the email or the shop's
    name (422 names the rule)."""
    check_password(body.password, email=body.email, shop_name=settings.shop_name)
    password_hash = await hash_password(body.password)
    return await db.one(
        queries.insert_user,
        email=body.email.strip(),
        password_hash=password_hash,
        name=body.name or None,
    )


@router.post(
    "/v1/auth/login",
    dependencies=[Depends(login_limit)],
    responses={
        401: {"description": "Wrong email or password"},
        429: {"description": "Rate limited"},
    },
)
async def login(
    body: Login,
    request: Request,
    db: PublicDb,
    settings: SettingsDep,
    limits: RateLimitsDep,
    jwt_secret: JwtSecret,
) -> Token:
    """Exchange email and password for a bearer token."""
    failures = parse(settings.login_account_rate_limit)
    # Keyed by the email as typed (normalised), known or not: an unknown email meets the
    # same limit, so a 429 tells nothing about which accounts exist.
    account, address = body.email.casefold(), client_address(request)
    # Only failures count, and an address the account logged in from within 30 days is
    # never refused for the account's sake (its own per-address limit still applies): a
    # botnet's guesses at one account stop at the limit, but an attacker who spends it
    # locks the customer out only of addresses they have not logged in from lately.
    if await limits.spent(failures, "login-failures", account) and not await limits.marked(
        KNOWN_ADDRESS, "login-known", account, address
    ):
        await limits.refuse(failures, "login-failures", account, what="failed logins")
    row = await db.one(queries.fetch_credentials, email=body.email)
    verdict = await verify_password(row.password_hash if row else None, body.password)
    if row is None or not verdict.valid:
        await limits.count(failures, "login-failures", account)
        raise Unauthorized(WRONG_CREDENTIALS)
    await limits.mark(KNOWN_ADDRESS, "login-known", account, address)
    if verdict.new_hash:
        # A legacy bcrypt hash (or outdated argon2 parameters): replace it now that the
        # password is known to be right. Earlier tokens stay valid.
        await db.one(
            queries.update_password_hash,
            user_id=row.id,
            password_hash=verdict.new_hash,
            revoke_tokens=False,
        )
    token, _ = issue_token(
        jwt_secret,
        user_id=row.id,
        generation=row.token_generation,
        ttl=settings.token_ttl_seconds,
    )
    return Token(access_token=token, expires_in=settings.token_ttl_seconds)


@router.post("/v1/auth/logout", status_code=204, responses={401: {"description": "No token"}})
async def logout(caller: CurrentCaller, db: CustomerDb) -> Response:
    """End this token: it no longer works, whatever its expiry."""
    await db.one(
        queries.insert_revoked_token,
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
    responses={
        401: {"description": "No token, or wrong current password"},
        422: {"description": "The new password breaks the policy"},
    },
)
async def change_password(
    body: PasswordChange, user: CurrentUser, db: CustomerDb, settings: SettingsDep
) -> Response:
    """Change the caller's password. Every token issued before stops working. The new one
    follows the registration's rules (422 names the one it breaks)."""
    check_password(
        body.new_password, email=user.email, shop_name=settings.shop_name, field="new_password"
    )
    stored = await db.one(queries.fetch_password_hash, user_id=user.id)
    if not (await verify_password(stored, body.current_password)).valid:
        raise Unauthorized("The current password is wrong.")
    await db.one(
        queries.update_password_hash,
        user_id=user.id,
        password_hash=await hash_password(body.new_password),
        revoke_tokens=True,
    )
    return Response(status_code=204)
