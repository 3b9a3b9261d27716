"""Finding the records of a legacy store, in whatever container its app used.

A store is a directory tree (every `.json`, `.ndjson` and `.jsonl` file in it) or one file.
A file is one of: a top-level array; NDJSON (one object a line, mongoexport's default even
under a `.json` name); an object holding collections under keys (lowdb's `db.json`, or one
array wrapped with metadata: `{"version": 2, "users": [...]}`); an object of records keyed
by id or name (`{"shani": {...}}`, `{"<user id>": [cart lines]}`); or one object that is a
single record (a one-cart app's `cart.json`). Each stream of records found is a `Unit`;
what holds no records is a `Skipped` with the reason, so that nothing is passed over
silently.

Arrays and NDJSON are streamed (sources.py). An object file is read whole when it is
smaller than `WHOLE_BELOW`; a larger one is scanned as a stream for its top-level arrays.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ijson
import orjson

from comptoir.importer import ejson, sources
from comptoir.importer.sources import Record, StoreError

SUFFIXES = (".json", ".ndjson", ".jsonl")
WHOLE_BELOW = 64 << 20
PRUNED = {"node_modules", ".git", "__pycache__", ".next", "dist", "build"}
# Keys under which a single order or cart keeps its lines (a one-cart app's cart.json).
WRAPPERS = {"data", "records", "results", "rows", "docs", "list", "entries"}
LINE_KEYS = {"items", "products", "lines", "orderitems", "cartitems", "cart"}


@dataclass
class Unit:
    """One stream of records: a file, or one key of a file."""

    name: str  # as the report and the mapping file name it: "data/users.json", "db.json:users"
    stem: str  # what recognition reads: the key, else the file's stem
    form: str  # the container, in words
    path: Path
    prefix: str | None = None  # ijson prefix of a streamed array
    ndjson: bool = False
    extended: bool = False  # MongoDB Extended JSON: decoded record by record
    loaded: list[Record] | None = None  # records of an object read whole
    collection: str | None = None  # decided by recognise.py
    rule: str = ""  # which rule decided it
    sample: list[Any] = field(default_factory=list)

    def records(self) -> Iterator[Record]:
        if self.loaded is not None:
            yield from self.loaded
            return
        stream = (
            sources.ndjson_records(self.path)
            if self.ndjson
            else sources.array_records(self.path, self.prefix or "item")
        )
        if not self.extended:
            yield from stream
            return
        for record in stream:
            yield Record(record.ordinal, ejson.decode(record.value), record.raw, record.key)


@dataclass(frozen=True)
class Skipped:
    name: str
    why: str
    records: int = 0  # records it holds that are not imported (0: metadata, nothing lost)


def discover(root: Path) -> tuple[list[Unit], list[Skipped]]:
    if not root.exists():
        raise StoreError(f"{root}: no such file or directory")
    files = [root] if root.is_file() else list(_files(root))
    base = root.parent if root.is_file() else root
    units: list[Unit] = []
    skipped: list[Skipped] = []
    for path in files:
        name = path.relative_to(base).as_posix()
        found, passed = _read_file(path, name)
        units += found
        skipped += passed
    if not units and not skipped:
        raise StoreError(f"{root}: no JSON or NDJSON files found")
    return units, skipped


def _files(root: Path) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in PRUNED and not d.startswith(".")
        )
        for name in sorted(names):
            if name.lower().endswith(SUFFIXES) and not name.startswith("."):
                yield Path(directory) / name


def _read_file(path: Path, name: str) -> tuple[list[Unit], list[Skipped]]:
    head = _head(path)
    stem = path.name.rsplit(".", 1)[0]
    extended = any(marker in head for marker in (b'"$oid"', b'"$date"', b'"$number'))
    first = head.lstrip()[:1]
    if not first:
        return [], [Skipped(name, "empty file")]
    if path.suffix.lower() in (".ndjson", ".jsonl") or _looks_ndjson(head):
        return [Unit(name, stem, "NDJSON", path, ndjson=True, extended=extended)], []
    if first == b"[":
        return [Unit(name, stem, "array", path, prefix="item", extended=extended)], []
    if first != b"{":
        return [], [Skipped(name, "not a JSON array or object")]
    if path.stat().st_size >= WHOLE_BELOW:
        return _streamed_object(path, name, stem, extended)
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        sources.raise_syntax_error(path)
        raise
    if extended:
        document = ejson.decode(document)
    return _object_units(path, name, stem, document)


def _head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(1 << 16)


def _looks_ndjson(head: bytes) -> bool:
    lines = [line for line in head.split(b"\n") if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith(b"{"):
        return False
    try:
        return isinstance(orjson.loads(lines[0]), dict) and lines[1].lstrip().startswith(b"{")
    except orjson.JSONDecodeError:
        return False


def _object_units(
    path: Path, name: str, stem: str, document: dict[str, Any]
) -> tuple[list[Unit], list[Skipped]]:
    from comptoir.importer.recognise import by_name  # recognition reads units: no cycle at load

    arrays = {k: v for k, v in document.items() if isinstance(v, list)}
    objects = {k: v for k, v in document.items() if isinstance(v, dict)}
    if not document:
        return [], [Skipped(name, "empty object")]
    if by_name(stem) in ("carts", "orders") and any(_norm(k) in LINE_KEYS for k in arrays):
        return [_loaded(name, stem, "single record", path, [(None, document)])], []
    values = list(document.values())
    named = any(by_name(k) for k in arrays)
    id_like = len(values) == 1 and any(c.isdigit() for c in next(iter(document)))
    owned = by_name(stem) in ("carts", "orders") and not WRAPPERS & {_norm(k) for k in document}
    if len(arrays) == len(values) and (len(values) > 1 or id_like or owned) and not named:
        # {"<user>": [lines], ...}: carts or orders keyed by their owner
        return [
            _loaded(name, stem, "records keyed by id or name", path, list(document.items()))
        ], []
    if arrays and (len(arrays) > 1 or len(objects) == 0 or named):
        return _keyed_collections(path, name, stem, document)
    if all(isinstance(v, dict) for v in values) or all(isinstance(v, list) for v in values):
        form = "records keyed by id or name"
        return [_loaded(name, stem, form, path, list(document.items()))], []
    return [_loaded(name, stem, "single record", path, [(None, document)])], []


def _keyed_collections(
    path: Path, name: str, stem: str, document: dict[str, Any]
) -> tuple[list[Unit], list[Skipped]]:
    """lowdb's db.json (each key a collection), or one array wrapped with metadata."""
    arrays = [k for k, v in document.items() if isinstance(v, list)]
    wrapped = len(arrays) == 1
    units, skipped = [], []
    for key, value in document.items():
        label = f"{name}:{key}"
        if isinstance(value, list):
            # `{"data": [...]}` names nothing: the file's stem does.
            unit_stem = stem if wrapped and not _named(key) else key
            form = "array wrapped in an object" if wrapped else "lowdb collection key"
            units.append(_loaded(label, unit_stem, form, path, [(None, v) for v in value]))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            form = "records keyed by id or name"
            units.append(_loaded(label, key, form, path, list(value.items())))
        else:
            skipped.append(Skipped(label, "metadata (not records): kept in the report only"))
    return units, skipped


def _named(key: str) -> bool:
    from comptoir.importer.recognise import by_name

    return by_name(key) is not None


def _loaded(
    name: str, stem: str, form: str, path: Path, items: list[tuple[str | None, Any]]
) -> Unit:
    records = [Record(i, value, None, key) for i, (key, value) in enumerate(items)]
    return Unit(name, stem, form, path, loaded=records)


def _streamed_object(
    path: Path, name: str, stem: str, extended: bool
) -> tuple[list[Unit], list[Skipped]]:
    """A large object file: its top-level arrays, streamed one after the other."""
    keys: list[str] = []
    with path.open("rb") as stream:
        try:
            for prefix, event, value in ijson.parse(stream):
                if prefix == "" and event == "map_key":
                    keys.append(value)
                elif event == "start_array" and prefix in keys[-1:]:
                    keys[-1] = "[]" + keys[-1]
        except ijson.JSONError:
            sources.raise_syntax_error(path)
            raise
    units = [
        Unit(f"{name}:{key[2:]}", key[2:], "lowdb collection key", path, prefix=f"{key[2:]}.item",
             extended=extended)
        for key in keys if key.startswith("[]")
    ]  # fmt: skip
    skipped = [
        Skipped(f"{name}:{key}", "metadata (not records): kept in the report only")
        for key in keys
        if not key.startswith("[]")
    ]
    return units, skipped


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")
