"""The payment providers' webhooks: Stripe's, and the provider-neutral signed one."""

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from comptoir.deps import Currency, PaymentProvider, SystemDb, WebhookSecret
from comptoir.errors import NotFound, Responses, Unauthorized, Unprocessable
from comptoir.payments import service, signature
from comptoir.payments.provider import BadSignature, Ignored
from comptoir.payments.schemas import PaymentEvent, Receipt

router = APIRouter(tags=["payments"])

RESPONSES: Responses = {401: {"description": "Bad or missing signature, or stale timestamp"}}


@router.post(
    "/v1/payments/webhook",
    responses=RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PaymentEvent.model_json_schema()}},
        }
    },
)
async def webhook(
    request: Request,
    db: SystemDb,
    secret: WebhookSecret,
    currency: Currency,
    comptoir_signature: Annotated[
        str | None,
        Header(alias="Comptoir-Signature", description="t=<unix seconds>,v1=<hex HMAC-SHA256>"),
    ] = None,
) -> Receipt:
    """A payment event from the provider. Signed; applied exactly once."""
    # The signature covers the raw bytes: read them before any parsing.
    body = await request.body()
    if not signature.verify(secret, comptoir_signature, body):
        raise Unauthorized("Bad or missing Comptoir-Signature, or a stale timestamp.")
    try:
        event = PaymentEvent.model_validate_json(body)
    except ValidationError as exc:
        raise Unprocessable(
            "The event is not valid.",
            errors=[
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ],
        ) from None
    receipt, _ = await service.apply_event(db, event.as_provider_event(), currency=currency)
    return receipt


@router.post(
    "/v1/payments/stripe/webhook",
    responses={
        401: {"description": "Bad or missing Stripe-Signature, or a stale timestamp"},
        404: {"description": "Stripe is not configured"},
        422: {"description": "Signed, but not a Stripe event"},
    },
)
async def stripe_webhook(
    request: Request,
    db: SystemDb,
    provider: PaymentProvider,
    currency: Currency,
    stripe_signature: Annotated[
        str | None, Header(alias="Stripe-Signature", description="t=<unix seconds>,v1=<hex>")
    ] = None,
) -> Receipt:
    """An event from Stripe (an endpoint of the Stripe dashboard, with its signing secret in
    COMPTOIR_STRIPE_WEBHOOK_SECRET). Verified on the raw body; applied once per event id;
    events of other types are acknowledged and ignored."""
    if provider is None or provider.name != "stripe":
        raise NotFound("Stripe is not configured.")
    body = await request.body()
    try:
        event = provider.parse_webhook(body, stripe_signature)
    except BadSignature as exc:
        raise Unauthorized(str(exc)) from None
    except (ValueError, KeyError, TypeError):
        raise Unprocessable("The event is not a Stripe event Comptoir can read.") from None
    if isinstance(event, Ignored):
        return Receipt(event_id=event.event_id, result="ignored", duplicate=False)
    return await service.apply_and_refund(db, provider, event, currency=currency)
