"""A stand-in for Stripe's API on loopback: only the endpoints Comptoir calls, with the
request and response shapes of Stripe's API reference (PaymentIntents: create, retrieve,
cancel; Refunds: create; errors as `{"error": {"type", "code", "message"}}`), form-encoded
requests as the SDK sends them, and Stripe's idempotency: a key seen before replays the
first answer (`Idempotent-Replayed: true`). Every idempotency key received is recorded, so
tests can assert that retries reuse them.

It can be told to fail the next requests (`fail("500")`, `fail("timeout")`: the request
takes effect, then the answer comes too late for the client, as when a network drops it)
and to build events and sign them exactly as Stripe does (`Stripe-Signature: t=<unix>,
v1=<hex HMAC-SHA256 of "<t>.<payload>">`).
"""

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):08d}standin"


def form(body: bytes) -> dict[str, str]:
    """Stripe's form encoding, flattened: `metadata[order_id]` stays a key of its own."""
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def error(status: int, code: str, message: str) -> JSONResponse:
    kind = "api_error" if status >= 500 else "invalid_request_error"
    return JSONResponse({"error": {"type": kind, "code": code, "message": message}}, status)


@dataclass
class Stripe:
    slow_seconds: float = 2.0
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # every Idempotency-Key received
    replies: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refund_status: str = "succeeded"

    # ------------------------------------------------------------ what tests tell it

    def fail(self, *faults: str) -> None:
        """The next requests fail, one fault each: "500" or "timeout"."""
        self.faults.extend(faults)

    def pay(
        self, intent_id: str, amount: int | None = None, currency: str | None = None
    ) -> dict[str, Any]:
        """The customer paid with Stripe.js: the intent succeeded (for `amount` minor units)."""
        intent = self.intents[intent_id]
        intent.update(status="succeeded", amount_received=amount or intent["amount"],
                      last_payment_error=None, latest_charge=new_id("ch"))  # fmt: skip
        if currency:
            intent["currency"] = currency
        return dict(intent)

    def decline(self, intent_id: str) -> dict[str, Any]:
        intent = self.intents[intent_id]
        intent.update(status="requires_payment_method", last_payment_error={
            "type": "card_error", "code": "card_declined", "message": "Your card was declined."
        })  # fmt: skip
        return dict(intent)

    def intent_of(self, order_id: str) -> dict[str, Any]:
        [intent] = [i for i in self.intents.values() if i["metadata"]["order_id"] == order_id]
        return intent

    def event(self, kind: str, obj: dict[str, Any]) -> bytes:
        """An event as Stripe delivers it to a webhook endpoint."""
        return json.dumps({
            "id": new_id("evt"), "object": "event", "api_version": "2025-10-29.clover",
            "created": int(time.time()), "data": {"object": obj}, "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }).encode()  # fmt: skip

    # ------------------------------------------------------------ the API

    async def create_intent(self, params: dict[str, str]) -> Response:
        intent_id = new_id("pi")
        self.intents[intent_id] = {
            "id": intent_id, "object": "payment_intent", "amount": int(params["amount"]),
            "amount_received": 0, "currency": params["currency"], "status":
            "requires_payment_method", "client_secret": f"{intent_id}_secret_{new_id('cs')}",
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "automatic_payment_methods": {"enabled": True}, "capture_method": "automatic",
            "created": int(time.time()), "livemode": False, "last_payment_error": None,
            "latest_charge": None, "canceled_at": None, "cancellation_reason": None,
        }  # fmt: skip
        return JSONResponse(self.intents[intent_id])

    async def cancel_intent(self, intent_id: str) -> Response:
        intent = self.intents[intent_id]
        if intent["status"] in ("succeeded", "canceled"):
            return error(400, "payment_intent_unexpected_state",
                         f"You cannot cancel this PaymentIntent because it has a status of"
                         f" {intent['status']}.")  # fmt: skip
        intent.update(status="canceled", canceled_at=int(time.time()),
                      cancellation_reason="requested_by_customer")  # fmt: skip
        return JSONResponse(intent)

    async def create_refund(self, params: dict[str, str]) -> Response:
        intent = self.intents.get(params["payment_intent"])
        if intent is None or intent["status"] != "succeeded":
            return error(400, "charge_not_refundable", "This PaymentIntent has no charge.")
        refund_id = new_id("re")
        self.refunds[refund_id] = {
            "id": refund_id, "object": "refund",
            "amount": int(params.get("amount", intent["amount_received"])),
            "currency": intent["currency"], "payment_intent": intent["id"],
            "charge": intent["latest_charge"], "status": self.refund_status,
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "created": int(time.time()), "reason": None,
        }  # fmt: skip
        return JSONResponse(self.refunds[refund_id])

    async def handle(self, request: Request) -> Response:
        self.requests.append(f"{request.method} {request.url.path}")
        key = request.headers.get("idempotency-key")
        if key is not None:
            self.keys.append(key)
        fault = self.faults.pop(0) if self.faults else None
        if fault == "500":
            return error(500, "api_error", "Something went wrong on Stripe's end.")
        if key is not None and key in self.replies:
            status, body = self.replies[key]
            answer: Response = Response(body, status, media_type="application/json",
                                        headers={"Idempotent-Replayed": "true"})  # fmt: skip
        else:
            try:
                answer = await self.route(request)
            except ClientDisconnect:  # the caller died mid-request (chaos): nothing done
                return Response(status_code=400)
            if key is not None and answer.status_code < 500:
                self.replies[key] = (answer.status_code, bytes(answer.body))
        if fault == "timeout":  # done at Stripe, the answer lost on the way
            await asyncio.sleep(self.slow_seconds)
        return answer

    async def route(self, request: Request) -> Response:
        params = form(await request.body())
        parts = request.url.path.strip("/").split("/")
        match request.method, parts:
            case "POST", ["v1", "payment_intents"]:
                return await self.create_intent(params)
            case "GET", ["v1", "payment_intents", intent_id] if intent_id in self.intents:
                return JSONResponse(self.intents[intent_id])
            case "POST", ["v1", "payment_intents", intent_id, "cancel"] if (
                intent_id in self.intents
            ):
                return await self.cancel_intent(intent_id)
            case "POST", ["v1", "refunds"]:
                return await self.create_refund(params)
        return error(404, "resource_missing", f"No such resource: {request.url.path}")


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def loopback_socket() -> socket.socket:
    """A socket on an ephemeral loopback port (parallel workers never collide)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(stripe: Stripe, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """The stand-in on `sock` (bound beforehand when its address must be known first), or
    on an ephemeral loopback port; its base URL."""
    app = Starlette(routes=[Route("/{path:path}", stripe.handle, methods=["GET", "POST"])])
    sock = sock or loopback_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    # Listening before the server starts: a first request waits in the backlog, never
    # meets a refused connection.
    sock.listen(64)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def refused_base() -> str:
    """A loopback address where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
