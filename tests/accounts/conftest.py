"""A real SMTP server on loopback (aiosmtpd, on a free port) and an app that mails through it."""

import asyncio
import email
import email.policy
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.conftest import client_of
from tests.support.ports import free_port

STOREFRONT = "https://shop.example.com"


@dataclass
class Inbox:
    """What the SMTP server received, parsed."""

    messages: list[EmailMessage] = field(default_factory=list)
    # The client's address and port of each mail's connection: one per SMTP session.
    peers: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.peers.append(session.peer)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1) -> list[EmailMessage]:
        """The first `count` mails to `address`, once they arrived. Bounded only so that a
        broken sender fails the test instead of hanging it."""
        for _ in range(2000):
            if len(self.to(address)) >= count:
                return self.to(address)
            await asyncio.sleep(0.01)
        raise AssertionError(f"no mail to {address}; received: {[m['To'] for m in self.messages]}")


@contextmanager
def smtp_server(inbox: Inbox, port: int) -> Iterator[None]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    received = Inbox()
    with smtp_server(received, smtp_port):
        yield received


def mail_settings(database_url: str, data_dir: Path, smtp_port: int, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        pool_min=1,
        pool_max=4,
        rate_limits="off",
        pending_order_ttl_minutes=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        mail_from="Boutique <shop@example.com>",
        shop_name="La Boutique",
        storefront_url=STOREFRONT,
        mail_poll_ms=20,
        **extra,
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan (and so its mail sender) running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_of(app) as client:
        yield app, client


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def link_token(message: EmailMessage, path: str) -> str:
    """The token of the storefront link in the mail's text, checked against its HTML."""
    found = re.search(rf"{re.escape(STOREFRONT + path)}\?\S+", text_of(message))
    assert found, text_of(message)
    url = found.group(0)
    assert url.replace("&", "&amp;") in html_of(message)
    token = parse_qs(urlsplit(url).query)["token"][0]
    return token
