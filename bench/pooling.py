"""Past one machine: catalog first page and checkout, direct, through PgBouncer (transaction
and session modes) and with the catalog read from a streaming replica, interleaved.

    .venv/bin/python bench/pooling.py [--duration 8] [--repeat 3] [--connections 32]

A PostgreSQL 15 primary and its replica of the run's own (tests/pooling/clusters.py: initdb,
pg_basebackup -R; fsync off, 32 MB of shared buffers), two PgBouncers before the primary, and
four `comptoir serve` (RLS on), all up for the whole run. Each repetition measures each
scenario on the four servers back to back, the order rotated every repetition, so that the
modes of one repetition see the same machine. Same load as bench/rls.py (wrk on core 1):
catalog = GET /v1/products?limit=20; checkout = three PUTs and a POST per virtual customer.
Prints the median req/s per scenario and mode and its ratio to direct.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.pooling's clusters

from tests.pooling.clusters import primary_and_replica
from tests.pooling.processes import pgbouncer

from checkout import customer_lines, load
from comptoir.db import migrate
from harness import LOADGEN_CPU, Server, comptoir_server, execute, say
from rls import Measure, measure, spread_created_at

MODES = ("direct", "pgbouncer-transaction", "pgbouncer-session", "replica")
SCENARIOS = ("catalog", "checkout")
ROLE_SETTINGS = (
    "ALTER ROLE comptoir_app IN DATABASE postgres SET statement_timeout = 15000;"
    " ALTER ROLE comptoir_app IN DATABASE postgres SET idle_in_transaction_session_timeout"
    " = 60000; ALTER ROLE comptoir_app IN DATABASE postgres SET jit = off"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--duration", type=int, default=8, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    return parser.parse_args()


@contextmanager
def mode_env(extra: dict[str, str]) -> Iterator[None]:
    """comptoir serve reads its settings from the environment (bench/harness.py)."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def report(args: argparse.Namespace, results: list[Measure]) -> None:
    print(
        f"\nPooling benchmark: {args.products} products, {args.customers} customers, "
        f"{args.connections} connections, {args.duration} s runs, {args.repeat} per mode "
        f"(medians), {args.workers} worker(s); wrk on CPU {LOADGEN_CPU}, server, PgBouncer"
        " and PostgreSQL unpinned"
    )
    print(f"{'scenario':9} {'mode':22} {'req/s':>7} {'p99 ms':>7} {'err':>4} {'vs direct':>9}")
    for scenario in SCENARIOS:
        direct = 0.0
        for mode in MODES:
            runs = [r for r in results if r.scenario == scenario and r.rls == mode]
            rps = statistics.median(r.rps for r in runs)
            direct = direct or rps
            p99 = statistics.median(r.p99_ms for r in runs)
            errors = sum(r.errors for r in runs)
            each = ", ".join(f"{r.rps:,.0f}" for r in runs)
            print(
                f"{scenario:9} {mode:22} {rps:7,.0f} {p99:7.1f} {errors:4d} {rps / direct:9.0%}"
                f"  ({each})"
            )


def main() -> None:
    args = parse_args()
    secret = secrets.token_urlsafe(48)
    os.environ["COMPTOIR_JWT_SECRET"] = secret  # the servers sign with it; so do we
    os.environ["COMPTOIR_RLS"] = "on"
    with (
        tempfile.TemporaryDirectory(prefix="comptoir-pooling-") as tmp,
        primary_and_replica() as (primary, replica),
    ):
        scratch = Path(tmp)
        url = primary.url()
        migrate.upgrade(url)
        asyncio.run(execute(url, ROLE_SETTINGS))
        say(f"loading {args.products} products and {args.customers} customers")
        products, users = asyncio.run(load(url, args.products, args.customers))
        asyncio.run(spread_created_at(url))
        customers = scratch / "customers.txt"
        customers.write_text("\n".join(customer_lines(secret, users, products, None)) + "\n")
        results: list[Measure] = []
        with ExitStack() as stack:
            users_ = ["postgres", "comptoir_app"]
            tx = stack.enter_context(pgbouncer(primary.port, "transaction", users_))
            session = stack.enter_context(pgbouncer(primary.port, "session", users_))
            via = "postgresql://comptoir_app@127.0.0.1:{}/postgres"
            envs = {
                "direct": {},
                "pgbouncer-transaction": {
                    "COMPTOIR_APP_DATABASE_URL": via.format(tx),
                    "COMPTOIR_POOLER": "pgbouncer",
                },
                "pgbouncer-session": {
                    "COMPTOIR_APP_DATABASE_URL": via.format(session),
                    "COMPTOIR_POOLER": "pgbouncer",
                },
                "replica": {"COMPTOIR_READ_DATABASE_URLS": replica.url("comptoir_app")},
            }
            server: dict[str, Server] = {}
            for mode in MODES:
                run_dir = scratch / mode
                run_dir.mkdir()
                with mode_env(envs[mode]):
                    server[mode] = stack.enter_context(comptoir_server(url, args.workers, run_dir))
            for repetition in range(args.repeat):
                order = MODES[repetition % 4 :] + MODES[: repetition % 4]
                for scenario in SCENARIOS:
                    for mode in order:
                        results.append(measure(args, scenario, mode, server[mode], customers, url))
        report(args, results)
    sys.exit(0)


if __name__ == "__main__":
    main()
