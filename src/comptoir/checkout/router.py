"""POST /v1/checkout."""

import json
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from comptoir.addresses.schemas import Address
from comptoir.auth.deps import CurrentUser
from comptoir.checkout import idempotency, service
from comptoir.deps import Currency, MetricsDep, PaymentProvider, PublicDb, SettingsDep, SystemDb
from comptoir.errors import BadRequest, Forbidden, Responses, Unprocessable
from comptoir.orders import queries as order_queries
from comptoir.orders.schemas import Order
from comptoir.payments import service as payments
from comptoir.responses import raw_json

router = APIRouter(tags=["checkout"])

RESPONSES: Responses = {
    400: {"description": "No Idempotency-Key header"},
    401: {"description": "No token"},
    403: {"description": "COMPTOIR_EMAIL_VERIFICATION=on and the email is not verified"},
    409: {
        "description": "Short of stock (the problem lists each short item), or the customer"
        " already has COMPTOIR_MAX_PENDING_ORDERS unpaid orders"
    },
    422: {
        "description": "Empty cart, the key was used for another request, the total is more"
        " than an order holds, an address is not valid or missing, or an unknown field"
    },
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="A unique key per checkout attempt (a UUID, say). Retrying with the same "
        "key returns the same order and creates nothing; keys are kept 24 hours.",
    ),
]


class CheckoutRequest(BaseModel):
    """Where the order goes. Unknown fields are refused (422), not ignored."""

    model_config = ConfigDict(extra="forbid")

    shipping_address: Address | None = Field(
        default=None,
        description="Required when the shop says so (COMPTOIR_SHIPPING_ADDRESS=required).",
    )
    billing_address: Address | None = Field(
        default=None, description="When it differs from the shipping address."
    )


@router.post("/v1/checkout", status_code=201, response_model=Order, responses=RESPONSES)
async def checkout(
    user: CurrentUser,
    db: PublicDb,
    currency: Currency,
    settings: SettingsDep,
    metrics: MetricsDep,
    system: SystemDb,
    provider: PaymentProvider,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[
        CheckoutRequest | None,
        Body(description="The addresses; part of the request's fingerprint."),
    ] = None,
) -> Response:
    """Turn the caller's cart into an order, in one transaction. The addresses are copied
    onto the order as they are now. Through the public door: place_order_as_buyer() says
    whom it serves itself, inside its one statement.

    With a payment provider, the order's payment is created after the order is committed,
    in this request: the answer carries `payment.client_secret` for Stripe.js. When the
    provider is slow or down the order is placed all the same, without a client secret:
    `POST /v1/orders/{id}/payment` asks again (docs/payments.md)."""
    if not idempotency_key or not idempotency_key.strip():
        raise BadRequest("The Idempotency-Key header is required.")
    body = body or CheckoutRequest()
    if settings.shipping_address == "required" and body.shipping_address is None:
        raise Unprocessable(
            "This shop ships its orders: a shipping_address is required.",
            errors=[{"loc": ["body", "shipping_address"], "msg": "Field required"}],
        )
    if settings.email_verification == "on" and not user.email_verified:
        raise Forbidden(
            "Confirm your email address first: use the link we sent you, or ask for a new one"
            " (POST /v1/me/email-verification)."
        )
    placed = await service.checkout(
        db,
        user_id=user.id,
        key=idempotency_key.strip(),
        request_fingerprint=idempotency.fingerprint(
            "POST", "/v1/checkout", body.model_dump(mode="json", exclude_none=True)
        ),
        shipping=_address(body.shipping_address),
        billing=_address(body.billing_address),
        currency=currency,
        max_pending=settings.max_pending_orders,
        on_retry=metrics.checkout_retried,
    )
    headers = {"Idempotency-Replay": "true"} if placed.replayed else {}
    body_text = placed.body
    if provider is not None and placed.status_code == 201:
        order = json.loads(body_text)
        if order["status"] == "pending" and not order["payment"]["client_secret"]:
            order_id = UUID(order["id"])
            await payments.ensure_intent(system, provider, order_id=order_id, currency=currency)
            again = await system.one(
                order_queries.fetch_order_json, order_id=order_id, owner=user.id,
                currency=currency,
            )  # fmt: skip
            body_text = again or body_text
    return raw_json(body_text, placed.status_code, headers)


def _address(address: Address | None) -> str | None:
    return address.model_dump_json() if address else None
