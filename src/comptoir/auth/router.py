"""Register, log in and out, the caller's profile."""

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, Request, Response
from limits import parse

from comptoir.accounts import service as account_service
from comptoir.accounts.schemas import Accepted
from comptoir.auth import queries, service
from comptoir.auth.cookie import clear_session, csrf_token, set_session
from comptoir.auth.deps import Caller, CurrentCaller, CurrentUser
from comptoir.auth.passwords import check_password
from comptoir.auth.schemas import (
    BrowserSession,
    Login,
    PasswordChange,
    Refresh,
    Register,
    Token,
    User,
)
from comptoir.auth.security import hash_password, issue_token, verify_password
from comptoir.deps import (
    ClientAddress,
    Hasher,
    JwtSecret,
    PublicDb,
    RateLimitsDep,
    SettingsDep,
    limited,
)
from comptoir.errors import Forbidden, Unauthorized
from comptoir.ratelimit import RateLimits
from comptoir.settings import Settings

router = APIRouter(tags=["auth"])

# Each route counts on its own: a customer who just registered can still log in.
register_limit = limited("register", lambda settings: settings.auth_rate_limit)
login_limit = limited("login", lambda settings: settings.auth_rate_limit)
refresh_limit = limited("refresh", lambda settings: settings.auth_rate_limit)

WRONG_CREDENTIALS = "Wrong email or password."
# How long an address where an account logged in stays "the customer's" for that account.
KNOWN_ADDRESS = parse("1/30 days")


@router.post(
    "/v1/auth/register",
    status_code=201,
    response_model=User,
    operation_id="register",
    dependencies=[Depends(register_limit)],
    responses={
        202: {
            "model": Accepted,
            "description": "With COMPTOIR_EMAIL_VERIFICATION=on: the same answer for a new and"
            " a taken address (its owner gets a notice by mail)",
        },
        409: {"description": "Email taken (COMPTOIR_EMAIL_VERIFICATION=off)"},
        422: {"description": "Not valid, or the password breaks the policy"},
        429: {"description": "Rate limited"},
    },
)
async def register(
    body: Register, settings: SettingsDep, db: PublicDb, hasher: Hasher
) -> Response | User:
    """Create a customer account and mail it a verification link. Emails compare
    case-insensitively. The password: 8 to 256 characters, not only whitespace, not a common
    password, not the email or the shop's name (422 names the rule). With
    COMPTOIR_EMAIL_VERIFICATION=on the answer is 202 whether or not the address was taken,
    so that registering tells nobody who has an account."""
    check_password(body.password, email=body.email, shop_name=settings.shop_name)
    password_hash = await hash_password(body.password, hasher)
    hide_taken = settings.email_verification == "on"
    created = await account_service.register(
        db,
        email=body.email.strip(),
        password_hash=password_hash,
        name=body.name or None,
        settings=settings,
        hide_taken=hide_taken,
    )
    if hide_taken:
        accepted = Accepted(detail="Check your inbox: a link to confirm the address is on its way.")
        return Response(accepted.model_dump_json(), 202, media_type="application/json")
    assert created.user is not None
    return created.user


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
    address: ClientAddress,
    db: PublicDb,
    settings: SettingsDep,
    limits: RateLimitsDep,
    jwt_secret: JwtSecret,
    hasher: Hasher,
) -> Token:
    """Exchange email and password for a short-lived bearer token and a refresh token (a
    new session)."""
    row = await _authenticate(body, address, db, settings, limits, hasher)
    opened = await service.open_session(
        db, user_id=row.id, ttl=timedelta(days=settings.refresh_token_ttl_days)
    )
    return _tokens(jwt_secret, settings, opened, generation=row.token_generation)


async def _authenticate(
    body: Login,
    address: str,
    db: PublicDb,
    settings: Settings,
    limits: RateLimits,
    hasher: PasswordHasher,
) -> queries.Credentials:
    """The account behind email and password, or 401 (counted against the account)."""
    failures = parse(settings.login_account_rate_limit)
    # Keyed by the email as typed (normalised), known or not: an unknown email meets the
    # same limit, so a 429 tells nothing about which accounts exist.
    account = body.email.casefold()
    # Only failures count, and an address the account logged in from within 30 days is
    # never refused for the account's sake (its own per-address limit still applies): a
    # botnet's guesses at one account stop at the limit, but an attacker who spends it
    # locks the customer out only of addresses they have not logged in from lately.
    if await limits.spent(failures, "login-failures", account) and not await limits.marked(
        KNOWN_ADDRESS, "login-known", account, address
    ):
        await limits.refuse(failures, "login-failures", account, what="failed logins")
    row = await db.one(queries.fetch_credentials, email=body.email)
    verdict = await verify_password(row.password_hash if row else None, body.password, hasher)
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
    return row


def _tokens(secret: str, settings: Settings, opened: service.Opened, generation: int) -> Token:
    token, _ = issue_token(
        secret,
        user_id=opened.user_id,
        generation=generation,
        ttl=settings.token_ttl_seconds,
        session_id=opened.session_id,
    )
    return Token(
        access_token=token,
        expires_in=settings.token_ttl_seconds,
        refresh_token=opened.refresh_token,
        refresh_expires_in=settings.refresh_token_ttl_days * 86400,
    )


@router.post(
    "/v1/auth/refresh",
    dependencies=[Depends(refresh_limit)],
    responses={
        401: {
            "description": "Unknown, expired or revoked refresh token; or a spent one, which"
            " ends its whole session"
        },
        429: {"description": "Rate limited"},
    },
)
async def refresh(body: Refresh, settings: SettingsDep, secret: JwtSecret, db: PublicDb) -> Token:
    """Spend a refresh token for a new access token and a new refresh token (the old one
    never works again). Presenting a spent refresh token ends the session it belongs to:
    every token of that login stops working."""
    rotated = await service.rotate(
        db,
        refresh_token=body.refresh_token,
        ttl=timedelta(days=settings.refresh_token_ttl_days),
    )
    if rotated is service.Refused.REUSED:
        raise Unauthorized("This refresh token was already used; the session is ended.")
    if isinstance(rotated, service.Refused):
        raise Unauthorized("This refresh token is not valid; log in again.")
    # Tokens with a session are governed by the session, not the generation.
    return _tokens(secret, settings, rotated, generation=0)


@router.post("/v1/auth/logout", status_code=204, responses={401: {"description": "No token"}})
async def logout(caller: CurrentCaller, db: PublicDb) -> Response:
    """End this token and its session: neither it nor the session's refresh token works
    again, whatever their expiry."""
    await _end(caller, db)
    return Response(status_code=204)


async def _end(caller: Caller, db: PublicDb) -> None:
    if caller.claims.session_id is not None:
        await service.end_session(db, session_id=caller.claims.session_id)
    await db.one(
        queries.insert_revoked_token,
        jti=caller.claims.jti,
        user_id=caller.user.id,
        expires_at=datetime.fromtimestamp(caller.claims.expires_at, UTC),
    )


@router.get("/v1/me", responses={401: {"description": "No token"}})
async def me(user: CurrentUser) -> User:
    """The caller's profile."""
    return user


@router.put(
    "/v1/me/password",
    status_code=204,
    responses={
        401: {"description": "No token"},
        403: {"description": "Wrong current password"},
        422: {"description": "The new password breaks the policy"},
    },
)
async def change_password(
    body: PasswordChange, caller: CurrentCaller, settings: SettingsDep, db: PublicDb, hasher: Hasher
) -> Response:
    """Change the caller's password. This session goes on; every other session of the
    account ends (its access and refresh tokens stop working). The new password follows
    the registration's rules (422 names the one it breaks); a wrong current password is 403,
    not 401, which clients read as "logged out"."""
    user = caller.user
    check_password(
        body.new_password, email=user.email, shop_name=settings.shop_name, field="new_password"
    )
    await service.check_current_password(
        db, user_id=user.id, password=body.current_password, hasher=hasher
    )
    await account_service.change_password(
        db,
        user_id=user.id,
        email=user.email,
        password_hash=await hash_password(body.new_password, hasher),
        keep=caller.claims.session_id,
    )
    return Response(status_code=204)


@router.post(
    "/v1/auth/session",
    response_model=BrowserSession,
    dependencies=[Depends(login_limit)],
    responses={
        401: {"description": "Wrong email or password"},
        403: {"description": "Not an admin: the browser session is the back office's"},
        429: {"description": "Rate limited"},
    },
)
async def open_browser_session(
    body: Login,
    request: Request,
    address: ClientAddress,
    db: PublicDb,
    settings: SettingsDep,
    limits: RateLimitsDep,
    jwt_secret: JwtSecret,
    hasher: Hasher,
) -> Response:
    """Log in for the back office in a browser: the access token is set as an httpOnly,
    SameSite=Strict cookie (Secure over HTTPS) that no script can read, and the answer
    carries `csrf_token`, which every unsafe request made with that cookie must send as the
    `X-CSRF-Token` header (it is also in the readable `comptoir_csrf` cookie). Admins only:
    a customer's right password is 403 and opens nothing. The session lasts
    COMPTOIR_BROWSER_SESSION_MINUTES; DELETE /v1/auth/session ends it."""
    row = await _authenticate(body, address, db, settings, limits, hasher)
    if row.role != "admin":
        raise Forbidden("The back office is for administrators.")
    ttl = settings.browser_session_minutes * 60
    # A session like login's, so that logout and a password change end it; its refresh
    # token is never handed out: when the session's time is up, the admin signs in again.
    opened = await service.open_session(db, user_id=row.id, ttl=timedelta(seconds=ttl))
    token, claims = issue_token(
        jwt_secret, user_id=row.id, generation=0, ttl=ttl, session_id=opened.session_id
    )
    csrf = csrf_token(jwt_secret, claims.jti)
    answer = BrowserSession(csrf_token=csrf, expires_in=ttl)
    response = Response(answer.model_dump_json(), media_type="application/json")
    set_session(response, request, token=token, csrf=csrf, ttl=ttl)
    return response


@router.delete(
    "/v1/auth/session",
    status_code=204,
    responses={
        401: {"description": "No session"},
        403: {"description": "No X-CSRF-Token header"},
    },
)
async def close_browser_session(request: Request, caller: CurrentCaller, db: PublicDb) -> Response:
    """Log out of the back office: the session ends (its cookie never works again, even if
    a copy was kept) and the cookies are cleared."""
    await _end(caller, db)
    response = Response(status_code=204)
    clear_session(response, request)
    return response
