"""Where mails go: an SMTP server (aiosmtplib) when COMPTOIR_SMTP_HOST is set, otherwise
files in COMPTOIR_DATA_DIR/mail, so that a shop without a mail server still works."""

import asyncio
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

import aiosmtplib

from comptoir.mail.render import Rendered
from comptoir.settings import Settings


class Transport(Protocol):
    where: str

    async def send(self, message: EmailMessage) -> None: ...


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

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )


class FolderTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.where = f"folder {folder}"

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)

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
