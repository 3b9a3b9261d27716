"""Structured request logs: one line per request, JSON in production, never a secret.

The logger belongs to the app (`structlog.wrap_logger`), not to a process-wide
configuration, so that several apps (tests) never step on each other.
"""

import functools
import re
import sys
from datetime import UTC, datetime
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from comptoir.settings import Settings

# Keys whose values are never written, whatever they hold.
SECRET_KEYS = re.compile(r"pass(word)?|token|secret|authori[sz]ation|cookie|card|cvc|iban", re.I)
# A payment card number: 13 to 19 digits in a row, or grouped the way cards are printed
# (4-4-4-4, with up to 3 more; Amex 4-6-5). Not a UUID, nor an ordinary number.
CARD_LIKE = re.compile(
    r"(?<![\w-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{5})"
    r"(?![\w-])"
)
# A JWT: three base64url parts, the first one starting like a JSON header.
JWT_LIKE = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
REDACTED = "[redacted]"


def scrub(value: str) -> str:
    return JWT_LIKE.sub(REDACTED, CARD_LIKE.sub(REDACTED, value))


# Cheap first look: only text with four digits in a row or a JWT's start gets the full scrub.
MAYBE_SECRET = re.compile(r"\d{4}|eyJ")


@functools.cache
def secret_key(key: str) -> bool:
    return SECRET_KEYS.search(key) is not None


def redact(logger: Any, method: str, event: EventDict) -> EventDict:
    """The last line of defence: whatever a caller binds, secrets do not reach the log.
    Runs on every request line, hence the cached key check and the cheap first look."""
    for key, value in event.items():
        if secret_key(key):
            event[key] = REDACTED
        elif isinstance(value, str) and MAYBE_SECRET.search(value):
            event[key] = scrub(value)
    return event


def stamp(logger: Any, method: str, event: EventDict) -> EventDict:
    """Level and UTC time: structlog's add_log_level and TimeStamper in one cheaper step."""
    event["level"] = method
    event["timestamp"] = datetime.now(UTC).isoformat()
    return event


class StderrLogger:
    """Writes each line to the stderr of the moment (pytest swaps it; so may an operator)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    log = debug = info = warning = warn = error = critical = exception = msg


def wants_json(settings: Settings) -> bool:
    if settings.log_format == "auto":
        return not sys.stderr.isatty()
    return settings.log_format == "json"


def request_logger(settings: Settings) -> Any:
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if wants_json(settings)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[Processor] = [redact, stamp, renderer]
    return structlog.wrap_logger(
        StderrLogger(),
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(0),
        context_class=dict,
        cache_logger_on_first_use=True,
    ).bind(logger="comptoir.requests")


def logging_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's `log_config` for `serve`: its own lines and every Python logger's (errors
    with their tracebacks, database faults) rendered like the request lines, and redacted
    the same way. The access log is off: the request lines replace it."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if wants_json(settings)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": [structlog.stdlib.add_logger_name],
        "processors": [
            stamp_record,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    }
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "structured",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter},
        "handlers": {"stderr": handler},
        # Libraries (the embedded server's helper) chat at INFO: warnings and errors only.
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def stamp_record(logger: Any, method: str, event: EventDict) -> EventDict:
    """`stamp` for records of the standard library, whose level is the record's."""
    record = event.get("_record")
    return stamp(logger, record.levelname.lower() if record else method, event)
