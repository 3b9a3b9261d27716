"""One pure ASGI middleware around every request: request id, body size limit, metrics, log.

Pure ASGI rather than `BaseHTTPMiddleware`: no extra task per request, responses stream
through untouched except for one header.
"""

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comptoir.errors import problem
from comptoir.observability.metrics import Metrics
from comptoir.openapi import DOCS_ASSETS

REQUEST_ID = b"x-request-id"
# A client's id is kept when it is a plain token: it is echoed in a header and logged.
ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
UNMATCHED = "<unmatched>"  # a path no route serves: one label, whatever was asked
CHECKOUT = ("POST", "/v1/checkout")
CHECKOUT_OUTCOMES = {201: "ordered", 409: "short_of_stock", 422: "refused"}


@dataclass
class Outcome:
    status: int = 500  # what the client gets when the app fails before answering
    replayed: bool = False


def request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID:
            candidate = str(value.decode("latin-1"))
            if ACCEPTABLE_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


# FastAPI serves its documents outside the routers, without a route in the scope.
DOCUMENTS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        return str(template)
    if scope["path"] in DOCUMENTS:
        return str(scope["path"])
    # The docs' static files: one label for all of them.
    return DOCS_ASSETS if scope["path"].startswith(DOCS_ASSETS + "/") else UNMATCHED


class TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class Observe:
    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, log: Any, slow_ms: int, max_body: int
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log
        self.slow = slow_ms / 1000
        self.max_body = max_body
        # The labelled children, by (method, route template, status): a bounded set, since
        # unmatched paths share one label.
        self.series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        outcome = Outcome()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
                headers = list(message.get("headers", ()))
                outcome.replayed = any(name == b"idempotency-replay" for name, _ in headers)
                message = {**message, "headers": [*headers, (REQUEST_ID, rid.encode())]}
            await send(message)

        try:
            length = declared_length(scope)
            if length is not None and length > self.max_body:
                refusal = problem(413, f"The request body is larger than {self.max_body} bytes.")
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, self.limited(receive), send_with_id)
        finally:
            self.record(scope, rid, outcome, time.perf_counter() - started)

    def limited(self, receive: Receive) -> Receive:
        """A chunked body (no Content-Length) is counted as it arrives."""
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise TooLarge(self.max_body)
            return message

        return receive_limited

    def record(self, scope: Scope, rid: str, outcome: Outcome, seconds: float) -> None:
        method, route, status = scope["method"], route_of(scope), outcome.status
        series = self.series.get((method, route, status))
        if series is None:  # labels() validates and locks: once per series, not per request
            series = self.series[method, route, status] = (
                self.metrics.requests.labels(method, route, status),
                self.metrics.latency.labels(method, route, status),
            )
        series[0].inc()
        series[1].observe(seconds)
        if (method, route) == CHECKOUT:
            kind = "replayed" if outcome.replayed else CHECKOUT_OUTCOMES.get(status)
            if kind:
                self.metrics.checkouts.labels(kind).inc()
        slow = seconds >= self.slow
        emit = self.log.warning if slow or status >= 500 else self.log.info
        emit(
            "request",
            request_id=rid,
            method=method,
            route=route,
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 2),
            slow=slow,
        )
