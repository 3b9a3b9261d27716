"""The background sender: mails leave the outbox in batches, with retries.

A batch is a transaction of its own that locks up to `BATCH` due mails
`FOR UPDATE SKIP LOCKED` (several workers share the outbox, none sends a mail another
holds), sends them over one connection to the mail server, deletes those the server took
and reschedules the others with a growing delay, then commits. A crash before the commit
leaves the batch in the outbox: it goes out at the next round (at least once: mails the
server accepted just before the crash are sent again). A transaction that rolled back never
wrote its mail.

Batches rather than one mail per transaction: a shop sends a mail per order, and a
transaction per mail meant four statements and a commit (a WAL flush) per order besides
the checkout's own, and an SMTP connection and login per mail.
"""

import asyncio
import logging
from contextlib import suppress

from comptoir.db.door import Door
from comptoir.mail import queries
from comptoir.mail.render import render
from comptoir.mail.transport import Transport, Unreachable, message
from comptoir.settings import Settings

log = logging.getLogger("comptoir.mail")

# Retry delays: 10 s, 20 s, 40 s ... at most an hour apart; a mail is tried for ever (an
# operator sees it in outbox_emails.last_error), as a mail server may be down for a day.
FIRST_RETRY_SECONDS = 10.0
LONGEST_RETRY_SECONDS = 3600.0
# Mails per transaction: their rows stay locked until it commits, so a batch is small
# enough to send in a few seconds, and what a crash sends twice stays small.
BATCH = 20


async def send_due(
    db: Door, transport: Transport, settings: Settings, stop: asyncio.Event | None = None
) -> int:
    """Send the oldest due mails, up to BATCH, in a transaction of their own: deleted once
    the server took them, rescheduled if not. How many were due (0: nothing was, or
    everything due is another sender's). When `stop` is set the batch ends after the mail
    being sent; the rest stay due, for the next sender."""
    async with db.transaction() as conn:
        due = await queries.lock_due_emails(conn, limit=BATCH)
        sent: list[int] = []
        unreachable: Unreachable | None = None
        async with transport.connection() as send:
            for mail in due:
                if stop is not None and stop.is_set():
                    break
                # The server is down: the batch's other mails wait with the first rather
                # than each waiting for a connection that will not come.
                failure: Exception | None = unreachable
                if failure is None:
                    try:
                        rendered = render(mail.kind, mail.payload, settings)
                        await send(
                            message(rendered, sender=settings.mail_from, recipient=mail.recipient)
                        )
                    except Unreachable as exc:
                        failure = unreachable = exc
                    except Exception as exc:
                        failure = exc
                if failure is None:
                    sent.append(mail.id)
                    continue
                delay = min(FIRST_RETRY_SECONDS * 2**mail.attempts, LONGEST_RETRY_SECONDS)
                log.warning("mail %s to the %s not sent: %s", mail.id, transport.where, failure)
                await queries.update_email_failed(
                    conn,
                    email_id=mail.id,
                    error=f"{type(failure).__name__}: {failure}",
                    retry_in_seconds=delay,
                )
        if sent:
            await queries.delete_emails(conn, email_ids=sent)
    return len(due)


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
            # A full batch: more may be due, no pause.
            while not stop.is_set() and await send_due(db, transport, settings, stop) == BATCH:
                pass
        except Exception:
            log.exception("mail round failed")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
