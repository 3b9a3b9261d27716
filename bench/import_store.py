"""Import benchmark: `comptoir import-json` on generated legacy stores (mostly analytics
events, as in real stores) of 100k, 1M and 3M records, each into a new database, with
records/s end to end and the importer's peak RSS. Two ceilings, each in a new database:
`psql \\copy` of the same events from CSV into `analytics_events` (partitions of their
months created first), and the import's own SQL for those events with no Python at all
(COPY of the CSV into the scratch router and its bare month tables, the daily rollup,
ATTACH PARTITION, COMMIT: the database's floor for the import's design).

    python bench/import_store.py [--sizes 100000 1000000]

Stores are generated once into --stores (bcrypt at cost 4 makes the users quick) and kept.
Targets: the import's records/s at least 60% of the database-only floor of the same run
(`psql \\copy` of the store's events, in records/s of the whole store); peak RSS under
300 MB, flat from 100k to 1M. The fabricated stores hold rejected records on purpose, so
the import's exit code 3 (records rejected) is expected.
"""

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil

from comptoir.db import embedded, migrate
from comptoir.importer import event_sql, fields
from comptoir.importer.run import attach_months, open_router
from harness import bench_database, execute, say, server_url

# The store generator is test support (tests/support/fabricate.py), not shipped.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import fabricate

TARGET_SHARE_OF_FLOOR = 0.60
TARGET_RSS_MB = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    tmp = Path(tempfile.gettempdir())
    parser.add_argument("--stores", type=Path, default=tmp / "comptoir-bench-stores")
    parser.add_argument("--data-dir", type=Path, default=tmp / "comptoir-bench-server")
    return parser.parse_args()


def store_of(root: Path, size: int) -> Path:
    path = root / f"store-{size}"
    if not (path / ".complete").exists():
        say(f"writing a legacy store of {size:,} records in {path}")
        fabricate.write_store(path, records=size)
        (path / ".complete").touch()
    return path


def records_in(store: Path) -> int:
    count = 0
    for name in ("users", "products", "carts", "orders", "leads"):
        count += len(json.loads((store / f"{name}.json").read_text()))
    with (store / "analytics.ndjson").open("rb") as events:
        count += sum(1 for _ in events)
    return count


def events_csv(store: Path) -> tuple[Path, int]:
    """The store's usable events as the CSV `\\copy` reads (what the import would keep)."""
    path = store / "analytics.csv"
    if not path.exists():
        with (store / "analytics.ndjson").open() as source, path.open("w", newline="") as out:
            writer = csv.writer(out)
            for number, line in enumerate(source):
                event = json.loads(line)
                try:
                    created_at = fields.moment(event.get("createdAt", event.get("timestamp")))
                except fields.Unusable:
                    continue
                payload = event.get("payload", event.get("data"))
                payload = payload if isinstance(payload, dict) else {"value": payload}
                document = json.dumps(payload).replace("\\u0000", "")
                kind = event.get("type", event.get("event"))
                writer.writerow([uuid.uuid4(), kind, document, created_at.isoformat(), number])
    with path.open("rb") as rows:
        return path, sum(1 for _ in rows)


def peak_rss(process: subprocess.Popen[bytes], peak: list[int]) -> None:
    watched = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [watched, *watched.children(recursive=True)])
        except psutil.Error:
            break
        peak[0] = max(peak[0], rss)
        time.sleep(0.02)


def settled(url: str) -> None:
    """A checkpoint before each timed step, so that none starts with the previous step's
    writes still to flush (a 1M import writes 420 MB of WAL, and its events take 316 MB
    of tables and indexes): without it, `psql \\copy` ran 20-30% slower right after an import."""
    asyncio.run(execute(url, "CHECKPOINT"))


def timed_import(url: str, store: Path) -> tuple[float, int, str]:
    settled(url)
    comptoir = str(Path(sys.executable).parent / "comptoir")
    rejects = store.parent / f"{store.name}-rejects.jsonl"
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "160"}
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [comptoir, "import-json", str(store), "--rejects", str(rejects)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak = [0]
    watcher = threading.Thread(target=peak_rss, args=(process, peak))
    watcher.start()
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    watcher.join()
    if process.returncode not in (0, 3):  # 3: the store's anomalies rejected, as they must be
        raise RuntimeError(f"import failed ({process.returncode}): {output.decode()}")
    return seconds, peak[0], output.decode().strip().splitlines()[-1]


async def prepare_months(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "SELECT create_analytics_events_partitions(m, 1) FROM generate_series("
            "timestamptz '2021-01-01', timestamptz '2025-12-01', interval '1 month') m"
        )
    finally:
        await conn.close()


def timed_copy(url: str, rows: Path) -> float:
    asyncio.run(prepare_months(url))
    settled(url)
    psql = str(embedded.bin_path() / "psql")
    command = (
        f"\\copy analytics_events (id, event_type, payload, created_at, legacy_id) "
        f"FROM '{rows}' CSV"
    )
    started = time.perf_counter()
    subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", "-c", command, url], check=True)  # noqa: S603
    return time.perf_counter() - started


async def timed_floor(url: str, rows: Path) -> dict[str, float]:
    """Seconds of each step of the import's events SQL (staging.py), fed from the CSV."""
    with rows.open(newline="") as source:
        firsts = sorted({
            datetime.fromisoformat(row[3]).astimezone(UTC).replace(
                day=1, hour=0, minute=0, second=0, microsecond=0)
            for row in csv.reader(source)
        })  # fmt: skip
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
    steps: dict[str, float] = {}
    lap = time.perf_counter()

    def done(step: str) -> None:
        nonlocal lap
        now = time.perf_counter()
        steps[step], lap = now - lap, now

    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL work_mem = '256MB'")
            months = await open_router(conn, firsts)
            done("tables")
            await conn.copy_to_table(
                "import_events_router", source=rows, format="csv",
                columns=("id", "event_type", "payload", "created_at", "legacy_id"),
            )  # fmt: skip
            done("copy")
            await conn.execute(event_sql.ROLLUP_ROUTED)
            done("rollup")
            await attach_months(conn, months)
            await conn.execute("DROP TABLE import_events_router")
            done("attach")
        done("commit")
    finally:
        await conn.close()
    return steps


def main() -> None:
    args = parse_args()
    args.stores.mkdir(parents=True, exist_ok=True)
    server = server_url(args.data_dir)
    results = []
    for size in args.sizes:
        store = store_of(args.stores, size)
        records = records_in(store)
        rows, events = events_csv(store)
        with bench_database(server) as url:
            migrate.upgrade(url)
            say(f"importing {records:,} records")
            seconds, rss, verdict = timed_import(url, store)
            say(verdict)
        with bench_database(server) as url:
            migrate.upgrade(url)
            say(f"psql \\copy of {events:,} events")
            copy_seconds = timed_copy(url, rows)
        with bench_database(server) as url:
            migrate.upgrade(url)
            settled(url)
            say(f"the import's SQL alone for {events:,} events")
            steps = asyncio.run(timed_floor(url, rows))
            say(", ".join(f"{step} {took:.1f} s" for step, took in steps.items()))
        results.append((records, seconds, rss, events, copy_seconds, sum(steps.values())))
    load = os.getloadavg()
    print(f"\nimport-json, one process; load average before the end {load[0]:.2f}")
    # The events' SQL alone is work the import cannot avoid, so records over its seconds is
    # an upper bound on the import's rate, however fast the parsing.
    print(
        "| records | seconds | records/s | peak RSS | floor: \\copy, records/s "
        "| import / floor | events' SQL alone | bound it sets, records/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    shares = []
    for records, seconds, rss, _events, copy_seconds, floor_seconds in results:
        # The floor is the database ingesting the store's events alone, as records of the
        # whole store per second: what the import would reach if Python cost nothing and
        # the other collections were free.
        rate, floor = records / seconds, records / copy_seconds
        shares.append(rate / floor)
        print(
            f"| {records:,} | {seconds:.1f} | {rate:,.0f} | {rss / 2**20:.0f} MB "
            f"| {floor:,.0f} | {rate / floor:.0%} | {floor_seconds:.1f} s "
            f"| {records / floor_seconds:,.0f} |"
        )
    peaks = [rss / 2**20 for _, _, rss, *_ in results]
    met = min(shares) >= TARGET_SHARE_OF_FLOOR
    print(
        f"\ntarget >= {TARGET_SHARE_OF_FLOOR:.0%} of the floor: {'met' if met else 'MISSED'}"
        f"; peak RSS < {TARGET_RSS_MB} MB: {'met' if max(peaks) < TARGET_RSS_MB else 'MISSED'}"
        f" (from {peaks[0]:.0f} to {peaks[-1]:.0f} MB)"
    )


if __name__ == "__main__":
    main()
