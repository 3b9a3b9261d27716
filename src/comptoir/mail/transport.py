"""Where mails go: an SMTP server (aiosmtplib) when COMPTOIR_SMTP_HOST is set, otherwise
files in COMPTOIR_DATA_DIR/mail, so that a shop without a mail server still works."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

import aiosmtplib

from comptoir.mail.render import Rendered
from comptoir.settings import Settings

Send = Callable[[EmailMessage], Awaitable[None]]


class Unreachable(Exception):
    """The mail server could not be reached (refused, timed out, hung up): no mail of the
    batch can go now, whatever its address."""


class Transport(Protocol):
    where: str

    def connection(self) -> AbstractAsyncContextManager[Send]:
        """A way to send several mails in a row (one SMTP connection for them all)."""
        ...


def message(rendered: Rendered, *, sender: str, recipient: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = rendered.subject
    msg["Date"] = formatdate(localtime=False)
    # Not email.utils.make_msgid: it draws from the `random` module's shared state, which is
    # not the sender's to move (Hypothesis, fuzzing the app in-process, notices).
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}>"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    # Set here for the same reason: the generator would draw one from `random`.
    msg.set_boundary(f"=={uuid.uuid4().hex}==")
    return msg


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self.settings = settings
        self.where = f"SMTP server {settings.smtp_host}:{settings.smtp_port}"

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Send]:
        """One SMTP session for a batch of mails, opened at its first mail (one TLS
        handshake and login per batch, not per mail)."""
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )

        async def send(message: EmailMessage) -> None:
            try:
                if not client.is_connected:
                    await client.connect()
                await client.send_message(message)
            except (
                aiosmtplib.SMTPConnectError,
                aiosmtplib.SMTPServerDisconnected,
                aiosmtplib.SMTPTimeoutError,
                OSError,
            ) as exc:
                client.close()
                raise Unreachable(f"{type(exc).__name__}: {exc}") from exc

        try:
            yield send
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except aiosmtplib.SMTPException:
                    client.close()


class FolderTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.where = f"folder {folder}"

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Send]:
        async def send(message: EmailMessage) -> None:
            await asyncio.to_thread(self._write, message)

        yield send

    def _write(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").replace("/", "_")
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(message.as_bytes())
        # Renamed once complete: a reader of the folder never sees half a mail.
        partial.replace(self.folder / f"{name}.eml")


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FolderTransport(settings.data_dir / "mail")
