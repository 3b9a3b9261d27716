"""POST /v1/payments/webhook, for the payment provider."""

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from comptoir.deps import Currency, SystemDb, WebhookSecret
from comptoir.errors import Responses, Unauthorized, Unprocessable
from comptoir.payments import service, signature
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
    return await service.apply_event(db, event, currency=currency)
