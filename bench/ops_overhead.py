"""What the operations middleware costs per request: the app with and without it, in-process.

    python bench/ops_overhead.py [--requests 20000] [--rounds 5]

Calls the ASGI app directly (no socket, no server) with `GET /healthz`, which touches no
database, so that what differs is only the middleware: request id, metrics (a counter and
a histogram with labels), the JSON log line (written to /dev/null, as a log shipper reading
a pipe would cost about the same). Rounds alternate the two apps so that the machine's
noise falls on both; the median round is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import Message

from comptoir.app import create_app
from comptoir.observability.middleware import Observe
from comptoir.settings import Settings

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"bench"), (b"x-request-id", b"bench-1")],
    "client": ("127.0.0.1", 5000),
    "server": ("127.0.0.1", 8000),
}


def make_app(with_middleware: bool, data_dir: Path) -> FastAPI:
    settings = Settings(
        database_url="postgresql://unused@127.0.0.1:1/unused",  # /healthz needs no database
        data_dir=data_dir,
        rate_limits="off",
        log_format="json",
    )
    app = create_app(settings)
    if not with_middleware:
        # Starlette types a middleware's class as a factory protocol that mypy finds disjoint
        # from type[Observe]; issubclass is the same test for a class with no subclasses.
        app.user_middleware = [
            m
            for m in app.user_middleware
            if not (isinstance(m.cls, type) and issubclass(m.cls, Observe))
        ]
    return app


async def serve(app: FastAPI, count: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    started = time.perf_counter()
    for _ in range(count):
        await app(dict(SCOPE), receive, send)
    return (time.perf_counter() - started) / count * 1e6  # microseconds per request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as devnull:
        apps = {name: make_app(name == "with", Path(tmp)) for name in ("with", "without")}
        timings: dict[str, list[float]] = {"with": [], "without": []}
        stderr, sys.stderr = sys.stderr, devnull
        try:
            for app in apps.values():
                asyncio.run(serve(app, 500))  # build the middleware stacks, warm up
            for _ in range(args.rounds):
                for name, app in apps.items():
                    timings[name].append(asyncio.run(serve(app, args.requests)))
        finally:
            sys.stderr = stderr
    with_, without = (statistics.median(timings[n]) for n in ("with", "without"))
    print(f"GET /healthz in-process, {args.requests} requests x {args.rounds} rounds (median)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"without the middleware: {without:7.1f} us/request")
    print(f"with the middleware:    {with_:7.1f} us/request")
    print(f"cost of the middleware: {with_ - without:7.1f} us/request")


if __name__ == "__main__":
    main()
