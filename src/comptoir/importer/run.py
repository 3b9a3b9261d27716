"""`comptoir import-json`: one legacy store into PostgreSQL, in one transaction.

The store's files and containers are found (discover.py) and each stream of records is
recognised as a collection (recognise.py). Records are parsed as a stream, checked one by
one in Python (records.py, orders.py), and copied into temporary staging tables;
set-based SQL (staging.py holds it, queries.py sends it) then decides what depends on
other records and writes the shop's tables. The events come last and are parsed in a
thread while that SQL runs (feed.py); the passwords to hash, after them. Nothing is
committed before the very end, so
a malformed file, a crash, `kill -9` or Ctrl-C leaves the database as it was, `--dry-run`
is the same run ending in a rollback, and so is `--all-or-nothing` when anything was not
imported.
"""

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import asyncpg
from argon2 import PasswordHasher

from comptoir.auth.security import STANDARD
from comptoir.importer import queries, records
from comptoir.importer.discover import Unit, discover
from comptoir.importer.feed import EventFeed, Row
from comptoir.importer.fields import Unusable
from comptoir.importer.mapping import Mapping
from comptoir.importer.passwords import Password
from comptoir.importer.queries import attach_months, open_router
from comptoir.importer.recognise import COLLECTIONS, SKIP, recognise
from comptoir.importer.report import FileOutcome, Outcome, Report
from comptoir.importer.sources import Record

__all__ = ["attach_months", "import_store", "open_router"]

BATCH = 5_000  # carts and orders a batch at a time, with their lines: bounded memory
CONVERTERS: dict[str, Callable[[Record, records.Context], records.Staged]] = {
    "users": records.user,
    "products": records.product,
    "carts": records.cart,
    "orders": records.order,
    "leads": records.lead,
    "analytics": records.event,
}
LINES = {"carts": "cart_lines", "orders": "order_lines"}

KEPT_HASH_NOTE = "password unchanged since the last import: its hash kept"
# A store of plain-text passwords spends minutes hashing them (a tenth of a second each):
# the progress bar shows it as a collection of its own.
HASHING = "passwords hashed"
Progress = Callable[[str, int, int], None]  # collection, records read so far, records total


class Rejects:
    """The rejects file: one JSON line per rejected record, whole (secrets masked), with
    every reason. It is opened at the first reject, so a clean import leaves no file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[str] | None = None

    def write(self, collection: str, record: Any, reason: str, where: str = "") -> None:
        if self._stream is None:
            self._stream = self.path.open("w", encoding="utf-8")
        line = {"collection": collection, "file": where, "record": records.masked(record),
                "reason": reason}  # fmt: skip
        self._stream.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def discard(self) -> None:
        """An import that failed rejected nothing: its partial rejects file goes."""
        self.close()
        if self._stream is not None:
            self.path.unlink(missing_ok=True)

    @property
    def written(self) -> bool:
        return self._stream is not None


def plan(path: Path, mapping: Mapping) -> tuple[list[Unit], Report]:
    """The store's units, recognised, in the order they are staged, and an empty report
    that names what will not be imported."""
    units, skipped = discover(path)
    report = Report(str(path), False, {name: Outcome() for name in COLLECTIONS})
    report.skipped = [(s.name, s.why) for s in skipped]
    for unit in units:
        recognise(unit, mapping.collections)
    order = {name: i for i, name in enumerate((*COLLECTIONS, SKIP))}
    units.sort(key=lambda u: order.get(u.collection or "", len(order)))
    for unit in units:
        if unit.collection is None:
            why = "not recognised as a collection by its name or content"
            report.not_understood.append((unit.name, f"{unit.form}: {why}; name it in"
                                          f' [collections] "{unit.name}" = "..."'))  # fmt: skip
    return units, report


async def import_store(
    url: str,
    path: Path,
    *,
    dry_run: bool = False,
    rejects_path: Path,
    progress: Progress | None = None,
    mapping: Mapping | None = None,
    all_or_nothing: bool = False,
    hasher: PasswordHasher = STANDARD,
) -> Report:
    """`hasher` hashes plain-text passwords: the shop's (COMPTOIR_ARGON2_*), so that the
    first login does not rehash them, which a cutover would then count as a change made
    in the shop since the rehearsal. argon2-cffi's defaults when not given."""
    started = time.perf_counter()
    mapping = mapping or Mapping()
    units, report = plan(path, mapping)
    report.dry_run = dry_run
    rejects = Rejects(rejects_path)
    conn = await asyncpg.connect(
        url, server_settings={"timezone": "UTC", "application_name": "comptoir import-json"}
    )
    try:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await queries.open_staging(conn)
            context = records.Context(mapping, hasher)
            # Each argon2id hash holds 64 MiB while it runs: one at a time keeps the import's
            # memory bounded whatever the number of plain-text passwords. The hashes are made
            # once the events are read, while PostgreSQL works alone on them: during the
            # parse both cores are busy (argon2 releases the GIL, but needs a core). An
            # import that fails or is interrupted drops the hashes not yet begun, which
            # could take minutes for a store of plain-text passwords.
            with _hashing() as hashing:
                to_hash: dict[int, Password] = {}  # by the users' ordinals
                months: set[tuple[int, int]] = set()  # of the events, in UTC
                stages = [
                    _Stage(conn, unit, report, rejects, context, to_hash)
                    for unit in units
                    if unit.collection is not None
                ]
                events = [stage for stage in stages if stage.file.collection == "analytics"]
                for stage in stages:
                    if stage.file.collection != "analytics":
                        await stage.run(months, progress)
                later = await _what_to_hash(conn, report, to_hash)
                # The events are parsed in a thread while the connection settles the rest
                # (feed.py).
                async with EventFeed(
                    _event_rows(events, months, progress),
                    lambda text: queries.copy_events(conn, text),
                ) as feed:
                    await queries.settle(queries.Turns(conn, feed), report)
                    await feed.stream()
                hashed = _hash(hashing, later, progress)
                await queries.settle_events(conn, report, months)
                hashes = [(o, await asyncio.wrap_future(f)) for o, f in hashed.items()]
                await queries.store_hashes(conn, hashes)
            await _file_rejects(conn, report)
            async for collection, raw, reason in queries.staged_rejects(conn):
                rejects.write(collection, raw, reason)
        except BaseException:
            rejects.discard()
            with suppress(Exception):  # a broken connection rolls back as it closes
                await transaction.rollback()
            raise
        report.all_or_nothing = all_or_nothing
        if dry_run or (all_or_nothing and not report.complete()):
            await transaction.rollback()
            report.committed = False
        else:
            await transaction.commit()
            report.committed = True
            await queries.analyze_written(conn)
    finally:
        await conn.close()
    rejects.close()
    report.rejects_file = str(rejects_path) if rejects.written else None
    report.seconds = time.perf_counter() - started
    return report


async def _what_to_hash(
    conn: asyncpg.Connection, report: Report, to_hash: dict[int, Password]
) -> dict[int, Callable[[], str]]:
    """Of the passwords to hash (plain text, weak digests), the users' records all staged:
    those of records unchanged since the last import keep the hash the database holds;
    the others are returned, to be hashed later, a placeholder standing in for them
    meanwhile. A cutover then hashes only what changed, as the rest of it writes only
    what changed: each argon2id hash takes about a tenth of a second, and a store's
    passwords can all be plain text."""
    if not to_hash:
        return {}
    kept = await queries.keep_unchanged_hashes(conn, list(to_hash))
    notes = report.collections["users"].notes
    later: dict[int, Callable[[], str]] = {}
    for ordinal, password in to_hash.items():
        if ordinal in kept:
            notes[password.note] -= 1
            notes[KEPT_HASH_NOTE] += 1
        else:
            assert password.job is not None  # only passwords to hash are queued
            later[ordinal] = password.job
    report.collections["users"].notes = +notes  # the notes no record has left
    await queries.hash_later(conn, list(later))
    return later


@contextmanager
def _hashing() -> Iterator[ThreadPoolExecutor]:
    hashing = ThreadPoolExecutor(1, thread_name_prefix="argon2")
    try:
        yield hashing
    finally:
        hashing.shutdown(cancel_futures=True)


def _hash(
    hashing: ThreadPoolExecutor, jobs: dict[int, Callable[[], str]], progress: Progress | None
) -> dict[int, Future[str]]:
    """The hashes, started; the progress bar moves as each finishes (in the hashing
    thread)."""
    done = itertools.count(1)

    def tick(_: Future[str]) -> None:
        if progress:
            progress(HASHING, next(done), len(jobs))

    hashed = {ordinal: hashing.submit(job) for ordinal, job in jobs.items()}
    for future in hashed.values():
        future.add_done_callback(tick)
    return hashed


async def _file_rejects(conn: asyncpg.Connection, report: Report) -> None:
    """Records rejected in SQL, counted against the file they came from (by ordinal range)."""
    for file in report.files:
        file.rejected += await queries.count(
            conn,
            f"SELECT count(*) FROM import_rejects WHERE collection = '{file.collection}'"
            f" AND ord >= {file.first} AND ord < {file.first + file.read}",
        )


class _Stage:
    """One unit's records into the staging tables of its collection."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        unit: Unit,
        report: Report,
        rejects: Rejects,
        context: records.Context,
        to_hash: dict[int, Password],
    ) -> None:
        self.conn, self.unit, self.report, self.rejects = conn, unit, report, rejects
        self.context, self.to_hash = context, to_hash
        name = unit.collection or SKIP
        self.outcome = report.collections[name] if name != SKIP else Outcome()
        self.file = FileOutcome(unit.name, name, unit.form, unit.rule, first=self.outcome.read)
        report.files.append(self.file)

    async def run(self, months: set[tuple[int, int]], progress: Progress | None) -> None:
        """The records of any collection but the events (`_event_rows`)."""
        name = self.file.collection
        if name == SKIP:
            await self._copy("kept", self._kept())
            return
        stream = self.staged(months, progress)
        if name in LINES:
            # Two tables from one stream: copied in batches, each batch's rows then its lines.
            while batch := [staged for _, staged in zip(range(BATCH), stream, strict=False)]:
                await self._copy(name, [s.row for s in batch])
                await self._copy(LINES[name], [line for s in batch for line in s.lines])
                guests = [(s.row[0], *s.guest) for s in batch if s.guest]
                await self._copy("guests", guests)
        else:
            # One COPY for the whole collection, fed as it is parsed.
            async def rows() -> AsyncIterator[tuple[Any, ...]]:
                for staged in stream:
                    yield staged.row

            await self._copy(name, rows())
        self.done(progress)

    def done(self, progress: Progress | None) -> None:
        if progress:
            progress(self.file.collection, self.outcome.read, self.outcome.read)

    def _kept(self) -> list[tuple[Any, ...]]:
        """Records the mapping file skips on purpose: kept as their source form only."""
        kept = []
        for record in self.unit.records():
            raw, fingerprint = records.source_form(record.value)
            kept.append((f"skipped:{self.unit.name}", self.file.read, raw, fingerprint))
            self.file.read += 1
        return kept

    def staged(self, months: set[tuple[int, int]], progress: Progress | None) -> Iterator[Any]:
        name, outcome, convert = (
            self.file.collection,
            self.outcome,
            CONVERTERS[self.file.collection],
        )
        for record in self.unit.records():
            ordinal = outcome.read
            outcome.read += 1
            self.file.read += 1
            if progress and outcome.read % 10_000 == 0:
                progress(name, outcome.read, 0)
            try:
                result = convert(record, self.context)
            except Unusable as reason:
                outcome.rejected += 1
                self.file.rejected += 1
                outcome.reasons[_reason_kind(str(reason))] += 1
                self.rejects.write(name, record.value, str(reason), self.unit.name)
                continue
            for note in result.notes:
                outcome.notes[note] += 1
            if result.password is not None and result.password.job is not None:
                self.to_hash[ordinal] = result.password
            if name == "analytics":
                months.add(_month(result.row[3]))
            result.row = (ordinal, *result.row)
            result.lines = [(ordinal, *line) for line in result.lines]
            yield result

    async def _copy(self, table: str, rows: Any) -> None:
        await queries.copy_staged(self.conn, table, rows)


def _event_rows(
    stages: list[_Stage], months: set[tuple[int, int]], progress: Progress | None
) -> Iterator[Row]:
    """The events' rows, parsed and checked (in the feed's thread)."""
    for stage in stages:
        for staged in stage.staged(months, progress):
            yield staged.row
        stage.done(progress)


def _reason_kind(reason: str) -> str:
    """A reason as the report counts it: the first problem, without the record's details."""
    first = reason.split("; ")[0]
    return first.split(" (")[0].split(": add")[0][:120]


def _month(moment: datetime) -> tuple[int, int]:
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.year, moment.month
