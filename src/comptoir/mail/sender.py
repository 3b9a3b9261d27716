"""The background sender: mails leave the outbox, with retries.

Each mail is sent in a transaction of its own that locks it `FOR UPDATE SKIP LOCKED`
(several workers share the outbox, none sends a mail another holds), deletes it once the
server took it, or reschedules it with a growing delay if that failed. A crash before the
commit leaves the mail in the outbox: it goes out at the next round (at least once: a mail
the server accepted just before the crash is sent again). A transaction that rolled back never
wrote its mail.
"""

import asyncio
import logging
from contextlib import suppress

from comptoir.db.door import Door
from comptoir.mail import queries
from comptoir.mail.render import render
from comptoir.mail.transport import Transport, message
from comptoir.settings import Settings

log = logging.getLogger("comptoir.mail")

# Retry delays: 10 s, 20 s, 40 s ... at most an hour apart; a mail is tried for ever (an
# operator sees it in outbox_emails.last_error), as a mail server may be down for a day.
FIRST_RETRY_SECONDS = 10.0
LONGEST_RETRY_SECONDS = 3600.0


async def send_one(db: Door, transport: Transport, settings: Settings) -> bool:
    """Send the oldest due mail, in a transaction of its own: deleted once the server took
    it, rescheduled if it failed. False: nothing was due (or everything due is another
    sender's)."""
    async with db.transaction() as conn:
        due = await queries.lock_due_emails(conn, limit=1)
        if not due:
            return False
        mail = due[0]
        try:
            rendered = render(mail.kind, mail.payload, settings)
            await transport.send(
                message(rendered, sender=settings.mail_from, recipient=mail.recipient)
            )
        except Exception as exc:
            delay = min(FIRST_RETRY_SECONDS * 2**mail.attempts, LONGEST_RETRY_SECONDS)
            log.warning("mail %s to the %s not sent: %s", mail.id, transport.where, exc)
            await queries.update_email_failed(
                conn,
                email_id=mail.id,
                error=f"{type(exc).__name__}: {exc}",
                retry_in_seconds=delay,
            )
            return True
        await queries.delete_email(conn, email_id=mail.id)
    return True


async def send_forever(
    db: Door, transport: Transport, settings: Settings, stop: asyncio.Event
) -> None:
    """Rounds until `stop` is set; a mail being sent is finished first, so that a shutdown
    neither cuts a mail in half nor sends it twice."""
    # Said at start, so that a shop without a mail server knows where its mails are.
    log.warning("mail goes to the %s", transport.where)
    pause = settings.mail_poll_ms / 1000
    while not stop.is_set():
        try:
            while not stop.is_set() and await send_one(db, transport, settings):
                pass  # more may be due: no pause
        except Exception:
            log.exception("mail round failed")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
