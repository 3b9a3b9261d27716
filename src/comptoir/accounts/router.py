"""Password reset, email verification and email change: links sent by mail."""

from fastapi import APIRouter, Depends, Response

from comptoir.accounts import queries, service
from comptoir.accounts.schemas import (
    Accepted,
    EmailChange,
    Erasure,
    ProfileChange,
    ResetConfirm,
    ResetRequest,
    VerifyEmail,
)
from comptoir.auth import service as auth_service
from comptoir.auth.deps import CurrentUser, CustomerDb
from comptoir.auth.passwords import check_password
from comptoir.auth.schemas import User
from comptoir.auth.security import hash_password
from comptoir.deps import Hasher, PublicDb, SettingsDep, limited
from comptoir.errors import BadRequest

router = APIRouter(tags=["account"])

reset_limit = limited("password-reset", lambda settings: settings.auth_rate_limit)
BAD_LINK = "This link is not valid: it was used already, has expired, or was never sent."
ACCEPTED = {"model": Accepted, "description": "Accepted; the same answer for any address"}


@router.post(
    "/v1/auth/password-reset",
    status_code=202,
    operation_id="request_password_reset",
    dependencies=[Depends(reset_limit)],
    responses={202: ACCEPTED, 429: {"description": "Rate limited"}},
)
async def request_password_reset(
    body: ResetRequest, db: PublicDb, settings: SettingsDep
) -> Accepted:
    """Mail a password-reset link to the address if it has an account. The answer is the
    same whether or not it has one. Accounts imported without a usable password claim
    themselves this way."""
    await service.request_reset(db, email=body.email, settings=settings)
    return Accepted(
        detail="If an account has this address, a link to choose a new password is on its"
        f" way; it works once, within {settings.reset_link_ttl_minutes} minutes."
    )


@router.post(
    "/v1/auth/password-reset/confirm",
    status_code=204,
    operation_id="confirm_password_reset",
    dependencies=[Depends(reset_limit)],
    responses={
        400: {"description": "The link is used, expired or unknown"},
        422: {"description": "The new password breaks the policy"},
        429: {"description": "Rate limited"},
    },
)
async def confirm_password_reset(
    body: ResetConfirm, db: PublicDb, settings: SettingsDep, hasher: Hasher
) -> Response:
    """Set a new password with the link's token. The link works once; every session of the
    account ends, and the address counts as verified."""
    link = await service.link_account(db, token=body.token, purpose="reset")
    if link is None:
        raise BadRequest(BAD_LINK)
    check_password(
        body.new_password, email=link.email, shop_name=settings.shop_name, field="new_password"
    )
    if not await service.reset_password(
        db, token=body.token, password_hash=await hash_password(body.new_password, hasher)
    ):
        raise BadRequest(BAD_LINK)
    return Response(status_code=204)


@router.post(
    "/v1/auth/verify-email",
    status_code=204,
    operation_id="verify_email",
    responses={
        400: {"description": "The link is used, expired or unknown"},
        409: {"description": "The new address (an email change) got an account meanwhile"},
    },
)
async def verify_email(body: VerifyEmail, db: PublicDb) -> Response:
    """Confirm an address with the token of a verification or email-change link (once)."""
    if not await service.verify_email(db, token=body.token):
        raise BadRequest(BAD_LINK)
    return Response(status_code=204)


@router.post(
    "/v1/me/email-verification",
    status_code=202,
    operation_id="resend_email_verification",
    dependencies=[Depends(reset_limit)],
    responses={
        202: ACCEPTED,
        401: {"description": "No token"},
        429: {"description": "Rate limited"},
    },
)
async def resend_verification(user: CurrentUser, db: PublicDb, settings: SettingsDep) -> Accepted:
    """Mail the caller a new verification link (an already verified address gets none)."""
    if not user.email_verified:
        await service.resend_verification(db, user_id=user.id, email=user.email, settings=settings)
    return Accepted(detail="A verification link is on its way, unless the address is verified.")


@router.post(
    "/v1/me/email",
    status_code=202,
    operation_id="change_my_email",
    dependencies=[Depends(reset_limit)],
    responses={
        202: ACCEPTED,
        401: {"description": "No token"},
        403: {"description": "Wrong current password"},
        429: {"description": "Rate limited"},
    },
)
async def change_email(
    body: EmailChange, user: CurrentUser, db: PublicDb, settings: SettingsDep, hasher: Hasher
) -> Accepted:
    """Move the account to a new address: a link goes to the new address, and the change
    happens when it is used (POST /v1/auth/verify-email). Needs the current password."""
    await auth_service.check_current_password(
        db, user_id=user.id, password=body.current_password, hasher=hasher
    )
    await service.request_email_change(
        db, user_id=user.id, new_email=body.new_email.strip(), settings=settings
    )
    return Accepted(
        detail="A link is on its way to the new address; the account moves there when it is used."
    )


@router.patch(
    "/v1/me", operation_id="change_my_profile", responses={401: {"description": "No token"}}
)
async def change_profile(body: ProfileChange, user: CurrentUser, db: CustomerDb) -> User:
    """Change the caller's profile (their name). Orders keep the addresses they were placed
    with."""
    await db.one(queries.update_profile, user_id=user.id, name=body.name or None)
    return user.model_copy(update={"name": body.name or None})


@router.post(
    "/v1/me/erasure",
    status_code=204,
    operation_id="erase_my_account",
    responses={401: {"description": "No token"}, 403: {"description": "Wrong current password"}},
)
async def erase_account(
    body: Erasure, user: CurrentUser, db: CustomerDb, hasher: Hasher
) -> Response:
    """Erase the caller's account (GDPR, article 17): the email, name and password are
    removed, the orders stay in the shop's books without addresses, everything else of the
    account is deleted, and every token of it stops working. Cannot be undone."""
    await auth_service.check_current_password(
        db, user_id=user.id, password=body.current_password, hasher=hasher
    )
    await service.erase(db, user_id=user.id)
    return Response(status_code=204)
