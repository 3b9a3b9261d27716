"""Stripe behind the provider seam, with Stripe's official SDK.

- A PaymentIntent per order: the order's total in its currency, the order id in its
  metadata, created with the idempotency key `comptoir-order-<order id>`, so that a retry
  (after a timeout, a 500, a crash between Stripe's answer and our commit) gets the same
  intent back, never a second one. Refunds likewise (`comptoir-refund-<order id>`): one
  refund per order, however often it is asked for.
- Webhook deliveries are verified by the SDK (`Stripe-Signature`, HMAC-SHA256 of
  "<t>.<raw body>", timestamps older than five minutes refused) on the raw body as sent.
- Stripe speaks in minor units ("2880" for 28.80 EUR, "500" for 500 JPY) and lower-case
  currencies; Comptoir in decimals and ISO 4217 upper case: converted here, and nowhere
  else.
"""

import json
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import stripe

from comptoir.payments.provider import (
    BadSignature,
    Ignored,
    Intent,
    Outcome,
    ProviderDown,
    ProviderEvent,
    ProviderRefused,
    Refund,
    RefundStatus,
)
from comptoir.settings import Settings

# Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal): the amount is
# in whole units.
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())

PAYMENT_EVENTS: dict[str, Outcome] = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "canceled",
}
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})


def minor_units(amount: Decimal, currency: str) -> int:
    return int(amount if currency.upper() in ZERO_DECIMAL else amount * 100)


def major_units(amount: int, currency: str) -> Decimal:
    units = Decimal(amount)
    return units if currency.upper() in ZERO_DECIMAL else units / 100


def _order_id(metadata: dict[str, Any] | None) -> UUID | None:
    try:
        return UUID(str((metadata or {})["order_id"]))
    except (KeyError, ValueError):
        return None


def _intent_status(
    status: str, failed: bool
) -> Literal["requires_payment", "succeeded", "failed", "canceled"]:
    if status in ("succeeded", "canceled"):
        return "succeeded" if status == "succeeded" else "canceled"
    # Back to requires_payment_method after a declined card: payable again, with the same
    # client secret.
    return "failed" if failed and status == "requires_payment_method" else "requires_payment"


def _refund_status(status: str | None) -> RefundStatus:
    if status == "succeeded":
        return "succeeded"
    if status in ("failed", "canceled"):
        return "failed"
    return "pending"  # pending, requires_action


def intent_of(obj: Any) -> Intent:
    """A PaymentIntent (the SDK's object or an event's JSON) in Comptoir's terms."""
    currency = str(obj["currency"]).upper()
    return Intent(
        id=obj["id"],
        status=_intent_status(obj["status"], bool(obj.get("last_payment_error"))),
        client_secret=obj.get("client_secret"),
        amount=major_units(obj["amount"], currency),
        amount_received=major_units(obj.get("amount_received") or 0, currency),
        currency=currency,
        order_id=_order_id(obj.get("metadata")),
    )


def refund_of(obj: Any) -> Refund:
    currency = str(obj["currency"]).upper()
    amount = major_units(obj["amount"], currency)
    return Refund(obj["id"], _refund_status(obj.get("status")), amount)


class StripeProvider:
    name = "stripe"

    def __init__(self, settings: Settings) -> None:
        assert settings.stripe_secret_key and settings.stripe_webhook_secret
        self._webhook_secret = settings.stripe_webhook_secret.get_secret_value()
        self._http = stripe.HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self._client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=settings.stripe_max_network_retries,
            http_client=self._http,
        )

    async def create_payment(self, *, order_id: UUID, amount: Decimal, currency: str) -> Intent:
        params: Any = {
            "amount": minor_units(amount, currency),
            "currency": currency.lower(),
            "metadata": {"order_id": str(order_id)},
            "automatic_payment_methods": {"enabled": True},
        }
        options: Any = {"idempotency_key": f"comptoir-order-{order_id}"}
        create = self._client.v1.payment_intents.create_async(params, options)
        return intent_of(await self._call(create))

    async def fetch_payment(self, intent_id: str) -> Intent:
        fetch = self._client.v1.payment_intents.retrieve_async(intent_id)
        return intent_of(await self._call(fetch))

    async def cancel_payment(self, intent_id: str, *, order_id: UUID) -> Intent:
        options: Any = {"idempotency_key": f"comptoir-cancel-{order_id}"}
        cancel = self._client.v1.payment_intents.cancel_async(intent_id, None, options)
        return intent_of(await self._call(cancel))

    async def refund(
        self, *, order_id: UUID, intent_id: str, amount: Decimal, currency: str
    ) -> Refund:
        params: Any = {
            "payment_intent": intent_id,
            "amount": minor_units(amount, currency),
            "metadata": {"order_id": str(order_id)},
        }
        options: Any = {"idempotency_key": f"comptoir-refund-{order_id}"}
        return refund_of(await self._call(self._client.v1.refunds.create_async(params, options)))

    async def _call(self, call: Any) -> dict[str, Any]:
        """The SDK's answer as plain JSON (its objects are not dicts), or a seam error."""
        try:
            answer: dict[str, Any] = (await call).to_dict()
            return answer
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
            raise ProviderDown(f"Stripe did not answer: {type(exc).__name__}") from None
        except stripe.StripeError as exc:
            if exc.http_status is None or exc.http_status >= 500:
                raise ProviderDown(f"Stripe did not answer: {type(exc).__name__}") from None
            raise ProviderRefused(f"Stripe refused: {exc.user_message or exc.code}") from None

    def parse_webhook(self, body: bytes, signature: str | None) -> ProviderEvent | Ignored:
        try:
            stripe.WebhookSignature.verify_header(
                body, signature, self._webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except stripe.SignatureVerificationError:
            raise BadSignature("Bad or missing Stripe-Signature, or a stale timestamp.") from None
        event = json.loads(body)
        kind, obj = event["type"], event["data"]["object"]
        if kind in PAYMENT_EVENTS:
            intent = intent_of(obj)
            succeeded = kind == "payment_intent.succeeded"
            return ProviderEvent(
                event_id=event["id"], provider=self.name, type=kind,
                outcome=PAYMENT_EVENTS[kind], intent_id=intent.id, order_id=intent.order_id,
                amount=intent.amount_received if succeeded else None,
                currency=intent.currency if succeeded else None,
            )  # fmt: skip
        if kind in REFUND_EVENTS and obj.get("payment_intent"):
            refund = refund_of(obj)
            return ProviderEvent(
                event_id=event["id"], provider=self.name, type=kind,
                outcome=f"refund_{refund.status}",  # type: ignore[arg-type]
                intent_id=obj["payment_intent"], order_id=_order_id(obj.get("metadata")),
                amount=refund.amount, currency=str(obj["currency"]).upper(),
                refund_id=refund.id,
            )  # fmt: skip
        return Ignored(event["id"], kind)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
