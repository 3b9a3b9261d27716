"""The import's promises: all or nothing, idempotent, reconciled, a dry run that commits
nothing, and a syntax error that names the file and the position."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from comptoir.db import embedded
from comptoir.importer.report import Report
from tests.importer.conftest import rejects, run_import, write_store
from tests.support import fabricate

SNAPSHOT = """
SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM products),
       (SELECT count(*) FROM carts), (SELECT count(*) FROM cart_items),
       (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items),
       (SELECT count(*) FROM leads), (SELECT count(*) FROM analytics_events),
       (SELECT array_agg(relname ORDER BY relname) FROM pg_class WHERE relkind IN ('r', 'p'))
"""

ROLLUP = "SELECT day, event_type, count FROM analytics_events_daily ORDER BY 1, 2"
RAW_COUNTS = """
SELECT (created_at AT TIME ZONE 'UTC')::date, event_type, count(*)
FROM analytics_events GROUP BY 1, 2 ORDER BY 1, 2
"""


@pytest.fixture(scope="module")
def large_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fabricate.write_store(tmp_path_factory.mktemp("large"), records=60_000)


def comptoir(*args: str, url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "comptoir"), *args],
        env={**os.environ, "DATABASE_URL": url},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background (`cmd &`) ignores SIGINT, and so would the
        # importer: give it Ctrl-C back, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize(
    ("stop", "exit_code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)]
)
async def test_an_importer_killed_or_interrupted_mid_import_leaves_the_database_unchanged(
    idb: asyncpg.Connection,
    import_url: str,
    large_store: Path,
    tmp_path: Path,
    stop: signal.Signals,
    exit_code: int,
) -> None:
    await run_import(import_url, write_store(tmp_path / "before", users=[
        {"id": "x", "email": "before@shop.test", "createdAt": "2020-01-01"}]))  # fmt: skip
    before = await idb.fetchrow(SNAPSHOT)

    # The import gets as far as its events, deep into the writes, and waits there on this
    # lock: the signal surely lands before the commit.
    blocker = await asyncpg.connect(import_url)
    held = blocker.transaction()
    await held.start()
    await blocker.execute("LOCK TABLE analytics_events IN SHARE MODE")
    importer = comptoir("import-json", str(large_store), url=import_url, cwd=tmp_path)
    try:
        for _ in range(6000):  # a bound against a hang, not a timing: 5 minutes
            waiting = await idb.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                " AND wait_event_type = 'Lock' AND datname = current_database()",
                "comptoir import-json",
            )
            if waiting or importer.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert importer.poll() is None, "the import ended before it could be stopped"
        # Blocked by this test's lock, deep in its writes (at ATTACH, or at the events'
        # insert when an earlier test of the module left their months attached).
        assert await idb.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
            " AND datname = current_database() AND $2 = ANY (pg_blocking_pids(pid))",
            "comptoir import-json",
            await blocker.fetchval("SELECT pg_backend_pid()"),
        )
        importer.send_signal(stop)
    finally:
        # Released first: an importer that survived the signal must not wait on it forever.
        await held.rollback()
        await blocker.close()
        _, stderr = importer.communicate(timeout=300)
    for _ in range(200):  # PostgreSQL notices the broken connection and rolls back
        if not await idb.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
            " AND datname = current_database()",
            "comptoir import-json",
        ):
            break
        await asyncio.sleep(0.05)

    assert await idb.fetchrow(SNAPSHOT) == before
    assert importer.returncode == exit_code
    if stop == signal.SIGINT:
        assert "interrupted: nothing was changed" in stderr
        assert not (tmp_path / "import-rejects.jsonl").exists()


async def test_a_syntax_error_in_the_last_file_imports_nothing_and_names_file_and_position(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = write_store(
        tmp_path / "store",
        users=[{"id": 1, "email": "ann@shop.test", "createdAt": "2021-01-01"}],
        analytics=[{"type": "view", "createdAt": "2022-01-01T00:00:00Z"}] * 3,
    )
    with (store / "analytics.ndjson").open("a") as events:
        events.write('{"type": "view", "createdAt": \n')

    importer = comptoir("import-json", str(store), url=import_url, cwd=tmp_path)
    _, stderr = importer.communicate(timeout=120)

    assert importer.returncode == 1
    assert f"{store / 'analytics.ndjson'}: line 4, column 30" in " ".join(stderr.split())
    assert "nothing was imported" in stderr
    assert await idb.fetchval("SELECT count(*) FROM users") == 0


async def test_a_syntax_error_in_a_json_array_is_placed_by_line_and_column(
    import_url: str, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "users.json").write_text('[\n  {"id": 1, "email": "a@b.c"},\n  {"id": 2,, }\n]')

    importer = comptoir("import-json", str(store), url=import_url, cwd=tmp_path)
    _, stderr = importer.communicate(timeout=120)

    assert importer.returncode == 1
    assert f"{store / 'users.json'}: line 3, column 12" in " ".join(stderr.split())


async def test_importing_the_same_store_twice_leaves_the_database_as_after_the_first_run(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = fabricate.write_store(tmp_path / "store", records=3_000)

    first = await run_import(import_url, store)
    after_first = dump(import_url)
    second = await run_import(import_url, store)

    assert dump(import_url) == after_first
    assert first.reconciled() and second.reconciled()
    for name, outcome in second.collections.items():
        assert outcome.already_present == outcome.imported == first.collections[name].imported
        assert outcome.rejected == first.collections[name].rejected


def dump(url: str) -> str:
    """Schema and data as pg_dump writes them, without pg_dump 18's per-run keys."""
    output = subprocess.run(
        [str(embedded.bin_path() / "pg_dump"), "--no-owner", "--dbname", url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return "\n".join(line for line in output.splitlines() if not line.startswith("\\"))


async def test_a_dry_run_reports_the_same_and_commits_nothing(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = fabricate.write_store(tmp_path / "store", records=2_000)

    before = await idb.fetchrow(SNAPSHOT)
    dry = await run_import(import_url, store, dry_run=True)
    assert await idb.fetchrow(SNAPSHOT) == before
    real = await run_import(import_url, store)

    assert dry.reconciled() and real.reconciled()
    assert {n: vars(o) for n, o in dry.collections.items()} == {
        n: vars(o) for n, o in real.collections.items()
    }
    assert dry.order_totals == real.order_totals


async def test_every_record_is_imported_merged_or_rejected_and_the_report_reconciles(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    store = fabricate.write_store(tmp_path / "store", records=5_000)

    report = await run_import(import_url, store)

    lines = {name: 0 for name in fabricate.shares(5_000)}
    for name in ("users", "products", "carts", "orders", "leads"):
        lines[name] = len(json.loads((store / f"{name}.json").read_text()))
    lines["analytics"] = len((store / "analytics.ndjson").read_text().splitlines())
    rejected = rejects(report)
    for name, outcome in report.collections.items():
        assert outcome.read == lines[name]
        assert outcome.imported + outcome.merged + outcome.rejected == lines[name]
        assert sum(1 for r in rejected if r["collection"] == name) == outcome.rejected
        assert outcome.found == outcome.imported
    # Events loaded month by month bypass the rollup's triggers: the import counts them in.
    assert await idb.fetch(ROLLUP) == await idb.fetch(RAW_COUNTS)
    stored = await idb.fetchval("SELECT sum(total_amount)::text FROM orders")
    assert report.order_totals["lines"] == report.order_totals["stored"] == stored
    assert report.reconciled()


async def test_a_lowdb_file_imports_like_the_directory_of_the_same_store(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    directory = fabricate.write_store(tmp_path / "dir", records=1_500, seed=7)
    lowdb = fabricate.write_store(tmp_path / "lowdb", records=1_500, seed=7, lowdb=True)

    from_lowdb = await run_import(import_url, lowdb, dry_run=True)
    from_directory = await run_import(import_url, directory, dry_run=True)

    assert lowdb.name == "db.json"
    assert {
        n: (o.read, o.imported, o.merged, o.rejected) for n, o in from_lowdb.collections.items()
    } == {
        n: (o.read, o.imported, o.merged, o.rejected) for n, o in from_directory.collections.items()
    }


@pytest.mark.parametrize("shape", ["wrapped", "mongoexport"])
async def test_the_same_store_in_another_container_imports_the_same(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path, shape: str
) -> None:
    """The fabricated store (every anomaly of the contract) wrapped with metadata, or as a
    mongoexport in Extended JSON, counts as the directory of plain arrays does."""
    directory = fabricate.write_store(tmp_path / "dir", records=1_500, seed=7)
    other = fabricate.write_store(tmp_path / shape, records=1_500, seed=7, shape=shape)

    from_other = await run_import(import_url, other, dry_run=True)
    from_directory = await run_import(import_url, directory, dry_run=True)

    def counts(report: Report) -> dict[str, tuple[int, int, int, int]]:
        return {
            n: (o.read, o.imported, o.merged, o.rejected) for n, o in report.collections.items()
        }

    assert counts(from_other) == counts(from_directory)
    assert from_other.order_totals == from_directory.order_totals
