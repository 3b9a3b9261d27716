"""Reading records out of a JSON array or an NDJSON file as a stream, so that a store
larger than memory imports with flat memory (discover.py finds the files and containers).

Each record comes with its raw JSON text, which is what a rejects file must hold (whole
and unchanged). JSON arrays are parsed by ijson's C backend fed in chunks we control, so a
syntax error can be placed exactly: the parse is replayed up to the failing chunk, which
is then fed byte by byte.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson

CHUNK = 1 << 16


class StoreError(Exception):
    """The store cannot be read: a missing path, or a file that is not valid JSON."""


@dataclass(frozen=True)
class Record:
    ordinal: int  # position in its collection, from 0
    value: Any  # as parsed (floats for non-integers: their repr is the JSON literal)
    raw: str | None  # the record's own text when the source has it (NDJSON lines)
    key: str | None = None  # its key, in an object of records keyed by id or name


def ndjson_records(path: Path) -> Iterator[Record]:
    # A line is a whole record: orjson parses it several times faster than the json module,
    # and the line itself is the record's raw text.
    ordinal = 0
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            text = line.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                value = _strict_json(path, number, text)  # integers beyond 64 bits, or an error
            yield Record(ordinal, value, text)
            ordinal += 1


def _strict_json(path: Path, number: int, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise StoreError(f"{path}: line {number}, column {error.colno}: {error.msg}") from None


def array_records(path: Path, prefix: str) -> Iterator[Record]:
    items = ijson.sendable_list()
    parser = ijson.items_coro(items, prefix, use_float=True)
    ordinal = 0
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(CHUNK):
                parser.send(chunk)
                for value in items:
                    yield Record(ordinal, value, None)
                    ordinal += 1
                items.clear()
            parser.close()
        except ijson.JSONError as error:
            raise StoreError(f"{path}: {_position(path, prefix)}: {_reason(error)}") from None
    for value in items:
        yield Record(ordinal, value, None)
        ordinal += 1


def raise_syntax_error(path: Path) -> None:
    """For an object file that failed to parse: the error with its line and column."""
    try:
        for _ in array_records(path, "item"):
            pass
    except StoreError:
        raise
    raise StoreError(f"{path}: invalid JSON")


def _reason(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else "invalid JSON"


def _position(path: Path, prefix: str) -> str:
    """Replays the parse to find the byte where it fails, as "line L, column C"."""
    parser = ijson.items_coro(ijson.sendable_list(), prefix, use_float=True)
    offset = line = 0
    last_newline = -1
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(CHUNK):
                try:
                    parser.send(chunk)
                except ijson.JSONError:
                    return _locate(chunk, offset, line, last_newline, prefix, stream)
                line += chunk.count(b"\n")
                if (at := chunk.rfind(b"\n")) >= 0:
                    last_newline = offset + at
                offset += len(chunk)
            parser.close()
        except ijson.JSONError:
            pass
    return f"line {line + 1}, column {offset - last_newline} (end of file)"


def _locate(
    chunk: bytes, offset: int, line: int, last_newline: int, prefix: str, stream: BinaryIO
) -> str:
    # The parser failed somewhere in `chunk`: start again and feed that chunk byte by byte.
    stream.seek(0)
    parser = ijson.items_coro(ijson.sendable_list(), prefix, use_float=True)
    if offset:
        parser.send(stream.read(offset))
    for index in range(len(chunk)):
        try:
            parser.send(chunk[index : index + 1])
        except ijson.JSONError:
            break
        if chunk[index] == 0x0A:
            line += 1
            last_newline = offset + index
    return f"line {line + 1}, column {offset + index - last_newline}"
