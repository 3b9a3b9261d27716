"""The `comptoir` command line: thin commands that call into the domains."""

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from comptoir.settings import Settings

# Each command imports what it uses in its body: the web stack (fastapi, uvicorn), Alembic,
# the payment provider's SDK and the demo take a second or more to load, which every command
# would pay at start, `--help` and `import-json` included (tests/test_layout.py checks it).

app = typer.Typer(help="Comptoir, the shop backend on PostgreSQL.", no_args_is_help=True)
db_app = typer.Typer(help="The database: migrations and schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
payments_app = typer.Typer(help="Payments at the provider.", no_args_is_help=True)
app.add_typer(payments_app, name="payments")

err = Console(stderr=True, soft_wrap=True)
out = Console()

T = TypeVar("T")


@dataclass
class Context:
    overrides: dict[str, Any]
    debug: bool

    @cached_property
    def settings(self) -> "Settings":
        # Read when a command needs them, not in the root callback: `COMMAND --help` must
        # work even when a setting in the environment is wrong.
        from comptoir.settings import load_settings

        return _guard(lambda: load_settings(**self.overrides), self.debug)

    def url(self) -> str:
        from comptoir.db.server import database_url

        return database_url(self.settings)


@app.callback()
def root(
    ctx: typer.Context,
    database_url_option: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="PostgreSQL to use (default: DATABASE_URL, else the embedded server).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    overrides: dict[str, Any] = {}
    if database_url_option:
        overrides["DATABASE_URL"] = database_url_option
    ctx.obj = Context(overrides=overrides, debug=debug)


def _guard(step: Callable[[], T], debug: bool) -> T:
    """Errors are one clear line and a non-zero exit; tracebacks only with --debug."""
    try:
        return step()
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        err.print("[red]interrupted:[/red] nothing was changed", highlight=False)
        raise typer.Exit(130) from None
    except Exception as exc:
        # Loaded here, once something went wrong, so that commands which raise none of
        # these do not load their modules.
        from comptoir.importer.mapping import MappingError
        from comptoir.importer.sources import StoreError
        from comptoir.settings import SettingsError

        if isinstance(exc, SettingsError):
            err.print(f"[red]error:[/red] bad setting: {exc}", highlight=False)
            raise typer.Exit(2) from None
        if isinstance(exc, StoreError | MappingError):
            # The message names mapping-file sections ("[collections]"): not markup.
            message = f"[red]error:[/red] {escape(str(exc))}; nothing was imported"
            err.print(message, highlight=False)
            raise typer.Exit(1) from None
        if debug:
            raise
        err.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", highlight=False)
        raise typer.Exit(1) from None


@contextmanager
def _steps(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner on standard error naming the step under way, with the time spent; it
    disappears at the end, and shows nothing when standard error is not a terminal."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task(title)
        yield lambda step: bar.update(task, description=f"{title}: {step}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker processes.")] = None,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not apply pending migrations.")
    ] = False,
) -> None:
    """Run the HTTP API (applies pending migrations first)."""
    import uvicorn

    from comptoir.db import direct, migrate, partitions
    from comptoir.observability.logs import logging_config
    from comptoir.observability.metrics import share_between_workers
    from comptoir.settings import split_list

    c: Context = ctx.obj
    settings = c.settings
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    url = _guard(c.url, c.debug)
    if _guard(lambda: asyncio.run(direct.is_standby(url)), c.debug):
        # A standby serves reads; writes answer 503 "read-only". The primary's own
        # instances migrate and look after the partitions.
        out.print("DATABASE_URL is a standby (read-only): no migrations, no upkeep here")
    else:
        if not no_migrate:
            _guard(lambda: migrate.upgrade(url), c.debug)
        # Before the workers start, once: analytics partitions ahead, strays moved
        # (docs/events.md).
        for line in _guard(lambda: asyncio.run(partitions.prepare_at_start(url)), c.debug):
            out.print(line, highlight=False)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    out.print(f"Comptoir on http://{shown}:{port} — API docs at http://{shown}:{port}/docs")
    out.print(f"Back office at http://{shown}:{port}/admin/ (admins sign in there)")
    # Workers are separate processes that read their settings from the environment: hand
    # them the server this process resolved (the embedded one, if that is what we run).
    os.environ["DATABASE_URL"] = url
    share_between_workers(workers)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_normally)
    uvicorn.run(
        "comptoir.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,  # the app logs each request itself, with its id and route
        log_config=logging_config(settings),
        timeout_graceful_shutdown=30,
        # X-Forwarded-For only from the proxies the operator named: uvicorn's default
        # trusts 127.0.0.1, exactly where a reverse proxy sits, so any client could choose
        # its own address and escape the rate limits. The app resolves the client by the
        # same rule (ratelimit.client_address), whatever server runs it.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=split_list(settings.trusted_proxies),
    )


def _current(c: Context, url: str) -> str | None:
    from comptoir.db import migrate

    return _guard(lambda: asyncio.run(migrate.current_revision(url)), c.debug)


def _exit_normally(signum: int, frame: object) -> None:
    # uvicorn re-raises the stop signal once it has shut down gracefully. Exit normally instead
    # of dying by the signal, so that exit handlers run: the last process out stops the
    # embedded PostgreSQL.
    raise SystemExit(0)


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context, revision: Annotated[str, typer.Argument(help="Target.")] = "head"
) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from comptoir.db import migrate

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    _guard(lambda: migrate.upgrade(url, revision), c.debug)
    out.print(f"database at revision {_current(c, url) or 'base'}")


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target, e.g. 0001 or base.")],
) -> None:
    """Revert migrations down to REVISION ('base' removes the whole schema)."""
    from comptoir.db import migrate

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    _guard(lambda: migrate.downgrade(url, revision), c.debug)
    out.print(f"database at revision {_current(c, url) or 'base'}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the database's revision and the latest one."""
    from comptoir.db import migrate

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    current = _current(c, url)
    head = migrate.head_revision()
    state = "up to date" if current == head else f"behind: latest is {head}"
    out.print(f"{current or 'base'} ({state})")


@db_app.command("schema")
def db_schema(ctx: typer.Context) -> None:
    """Print the full schema as SQL (what db/postgres_schema.sql holds)."""
    from comptoir.db import schema

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    sys.stdout.write(_guard(lambda: asyncio.run(schema.schema_sql(url)), c.debug))


@db_app.command("stats")
def db_stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows per section.")] = 10,
) -> None:
    """Health of the database: slowest and most frequent statements, lock waits, dead
    tuples and last vacuum, unused and bloated indexes, partition sizes."""
    from comptoir.db import stats

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    sections = _guard(lambda: asyncio.run(stats.report(url, limit=limit)), c.debug)
    if as_json:
        payload = {s.title: {"rows": s.rows, "hint": s.hint} for s in sections}
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    for section in sections:
        out.print(stats.as_table(section))


@db_app.command("maintain")
def db_maintain(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be done.")] = False,
    export_dir: Annotated[
        Path | None,
        typer.Option(help="Export analytics partitions past the retention here first."),
    ] = None,
) -> None:
    """VACUUM (ANALYZE) where dead tuples call for it, REINDEX CONCURRENTLY bloated indexes,
    analytics partitions ahead and past retention, expired keys and revocations purged,
    unpaid orders past COMPTOIR_PENDING_ORDER_TTL_MINUTES cancelled and restocked.
    Safe to run from cron while the shop serves."""
    from comptoir.db import maintain
    from comptoir.orders import service as orders

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    retention = c.settings.events_retention_months
    minutes = c.settings.pending_order_ttl_minutes
    chores = [orders.expiry_chore(timedelta(minutes=minutes))] if minutes else []
    with _steps("maintaining") as step:
        done = _guard(
            lambda: asyncio.run(
                maintain.run(
                    url,
                    retention_months=retention,
                    export_dir=export_dir or c.settings.events_export_dir,
                    chores=chores,
                    dry_run=dry_run,
                    step=step,
                )
            ),
            c.debug,
        )
    out.print("\n".join(done) if done else "nothing to do", highlight=False)


def _since(value: str) -> datetime:
    """`48h`, `7d`, or an ISO-8601 instant (UTC when it names no zone)."""
    if match := re.fullmatch(r"(\d+)([hd])", value.strip()):
        amount, unit = int(match[1]), match[2]
        return datetime.now(UTC) - timedelta(hours=amount if unit == "h" else amount * 24)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("give 48h, 7d or an ISO-8601 instant") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@payments_app.command("reconcile")
def payments_reconcile(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(help="Payments placed since: 48h, 7d, or an ISO-8601 instant."),
    ] = "7d",
) -> None:
    """Ask the payment provider about every payment still open (an order pending, or
    cancelled while its payment could still take money) or owing a refund, and repair what
    a lost or late webhook left behind: orders paid, payments cancelled, refunds asked for.
    Prints what it changed. Safe to run again, and from cron while the shop serves."""
    from comptoir.payments import service as payments

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    start = _since(since)
    done = _guard(lambda: asyncio.run(payments.reconcile_at(url, c.settings, since=start)), c.debug)
    # One line per repair, never wrapped: cron logs and scripts read them.
    out.print("\n".join(done) if done else "nothing to repair", highlight=False, soft_wrap=True)


@users_app.command("create-admin")
def create_admin(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="The admin's email.")]
) -> None:
    """Create an admin, or promote an existing account. For a new account, asks for the
    password, or reads it from standard input when that is not a terminal; an existing
    account keeps its password. Says where the password stands."""
    from comptoir.auth.security import password_hasher
    from comptoir.users.admins import account_exists, create_or_promote_admin

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    exists = _guard(lambda: asyncio.run(account_exists(url, email=email.strip())), c.debug)
    password = None if exists != "absent" else _read_password(email.strip(), c.settings.shop_name)
    message = _guard(
        lambda: asyncio.run(
            create_or_promote_admin(
                url, email=email.strip(), password=password, hasher=password_hasher(c.settings)
            )
        ),
        c.debug,
    )
    out.print(message)


@users_app.command("set-password")
def set_password_command(
    ctx: typer.Context, email: Annotated[str, typer.Argument(help="The account's email.")]
) -> None:
    """Set an account's password (imported accounts with no usable password, guests).
    Asks for it, or reads it from standard input when that is not a terminal. Every token
    of the account stops working."""
    from comptoir.auth.security import password_hasher
    from comptoir.users.admins import set_password

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    password = _read_password(email.strip(), c.settings.shop_name)
    message = _guard(
        lambda: asyncio.run(
            set_password(
                url, email=email.strip(), password=password, hasher=password_hasher(c.settings)
            )
        ),
        c.debug,
    )
    out.print(message)


def _read_password(email: str, shop_name: str) -> str:
    from comptoir.auth.passwords import broken_rule

    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    rule = broken_rule(password, email=email, shop_name=shop_name)
    if rule is not None:
        err.print(f"[red]error:[/red] this password is refused: {rule}", highlight=False)
        raise typer.Exit(2)
    return password


@app.command()
def demo(
    ctx: typer.Context,
    products: Annotated[int, typer.Option(min=1, max=1_000_000)] = 1000,
    customers: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
) -> None:
    """Fill an empty database with a realistic demo shop (applies migrations first)."""
    from comptoir.auth.security import password_hasher
    from comptoir.db import migrate
    from comptoir.demo import seed

    c: Context = ctx.obj
    url = _guard(c.url, c.debug)
    _guard(lambda: migrate.upgrade(url), c.debug)
    with _steps("demo shop") as step:
        message = _guard(
            lambda: asyncio.run(
                seed.fill(
                    url,
                    products=products,
                    customers=customers,
                    step=step,
                    hasher=password_hasher(c.settings),
                )
            ),
            c.debug,
        )
    out.print(message)


@app.command("import-json")
def import_json(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The store: a directory tree or one JSON file.")],
    map_file: Annotated[
        Path | None,
        typer.Option("--map", help="Mapping file (TOML); `comptoir inspect` drafts it."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything but commit; print the report.")
    ] = False,
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="Commit nothing if anything is rejected.")
    ] = False,
    rejects: Annotated[
        Path, typer.Option(help="Where rejected records go (JSON lines), if there are any.")
    ] = Path("import-rejects.jsonl"),
    report_json: Annotated[
        Path | None, typer.Option(help="Also write the report as JSON to this file.")
    ] = None,
) -> None:
    """Move a legacy JSON store into PostgreSQL (applies migrations first). Exit code 0 when
    every record was imported or merged; 3 some rejected, 4 some not understood, 5 counts
    that do not add up, 1 an error (nothing imported), 130 interrupted."""
    from comptoir.auth.security import password_hasher
    from comptoir.db import migrate
    from comptoir.importer import mapping as import_mapping
    from comptoir.importer.run import HASHING, import_store

    c: Context = ctx.obj
    mapping = _guard(lambda: import_mapping.load(map_file), c.debug)
    url = _guard(c.url, c.debug)
    if mapping.currency and mapping.currency.upper() != c.settings.currency.upper():
        err.print(
            f"[red]error:[/red] the store's prices are in {mapping.currency}, the shop's"
            f" currency is {c.settings.currency} (COMPTOIR_CURRENCY); nothing was imported"
        )
        raise typer.Exit(1)
    _guard(lambda: migrate.upgrade(url), c.debug)
    with Progress(
        TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} {task.fields[of]}"),
        TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def advance(collection: str, done: int, total: int) -> None:
            of = f"of {total:,}" if collection == HASHING else "records"
            if collection not in tasks:
                tasks[collection] = bar.add_task(collection, of=of)
            bar.update(tasks[collection], completed=done, of=of)

        report = _guard(
            lambda: asyncio.run(
                import_store(url, path, dry_run=dry_run, rejects_path=rejects, progress=advance,
                             mapping=mapping, all_or_nothing=all_or_nothing,
                             hasher=password_hasher(c.settings))
            ),
            c.debug,
        )  # fmt: skip
    report.print(out)
    if report_json:
        report_json.write_text(json.dumps(report.as_json(), indent=2, default=str) + "\n")
    if code := report.exit_code():
        raise typer.Exit(code)


@app.command()
def inspect(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The store: a directory tree or one JSON file.")],
    draft: Annotated[Path, typer.Option(help="Where the draft mapping file goes.")] = Path(
        "comptoir-map.toml"
    ),
    map_file: Annotated[
        Path | None, typer.Option("--map", help="A mapping file to profile the store with.")
    ] = None,
) -> None:
    """Profile a legacy store without touching any database: files and containers,
    collections recognised, fields and where they go, what would be rejected; and write a
    draft mapping file to complete (its blanks are "")."""
    from comptoir.importer import inspect as store_inspect
    from comptoir.importer import mapping as import_mapping

    c: Context = ctx.obj
    mapping = _guard(lambda: import_mapping.load(map_file), c.debug)
    profile = _guard(lambda: store_inspect.profile(path, mapping), c.debug)
    profile.print(out)
    draft.write_text(store_inspect.draft_mapping(profile), encoding="utf-8")
    blanks = store_inspect.blanks(profile)
    out.print(f"draft mapping written to {draft}" +
              (f": {blanks} blanks to fill" if blanks else ": nothing to fill"))  # fmt: skip


def main() -> None:
    app()
