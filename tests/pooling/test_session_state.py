"""No SQL of the API's paths leaves session state behind (tests/session_state.py): the
static half, on every SQL text of the source. The owner commands may, and refuse a pooler."""

import ast
import os
from pathlib import Path

import asyncpg

from comptoir.db.direct import through_pooler
from tests.session_state import session_state

SRC = Path(__file__).parents[2] / "src" / "comptoir"
# Owner work: run direct, refused behind a pooler (comptoir.db.direct).
OWNER = {"db/maintain.py", "db/partitions.py", "db/migrate.py", "db/migrations", "importer"}


def owner(path: Path) -> bool:
    relative = path.relative_to(SRC).as_posix()
    return any(relative == o or relative.startswith(o + "/") for o in OWNER)


def sql_texts(path: Path) -> list[str]:
    if path.suffix == ".sql":
        return [path.read_text()]
    tree = ast.parse(path.read_text())
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ] + [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]


def test_no_sql_outside_the_owner_commands_leaves_session_state() -> None:
    found = [
        f"{path.relative_to(SRC)}: {text.strip()[:80]!r}"
        for path in sorted([*SRC.rglob("*.py"), *SRC.rglob("*.sql")])
        if not owner(path)
        for text in sql_texts(path)
        if session_state(text)
    ]
    assert not found, "\n".join(found)


def test_the_check_knows_what_leaves_state_and_what_ends_with_the_transaction() -> None:
    leaves = [
        "SET statement_timeout = 0",
        "BEGIN; SET search_path = x",
        "SELECT set_config('comptoir.user_id', $1, false)",
        "SELECT pg_advisory_lock($1)",
        "SELECT pg_try_advisory_lock(1)",
        "LISTEN orders",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
    ]
    ends = [
        "BEGIN; SET LOCAL ROLE comptoir_staff",
        "SELECT set_config('comptoir.user_id', '00000000-0000-0000-0000-000000000000', true)",
        "SELECT pg_try_advisory_xact_lock($1)",
        "UPDATE orders SET status = 'paid'",
        "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET n = 2",
        "DECLARE comptoir_rows NO SCROLL CURSOR FOR SELECT 1",
    ]
    assert [q for q in leaves if not session_state(q)] == []
    assert [q for q in ends if session_state(q)] == []


async def test_the_api_tests_run_through_pgbouncer_when_ci_asks(conn: asyncpg.Connection) -> None:
    """CI's third pass sets COMPTOIR_TEST_VIA_PGBOUNCER: every API test's connection (the
    `conn` fixture, which the app's doors use) is then a PgBouncer client in transaction
    mode, which this checks, so that the whole API suite runs through a real pooler."""
    assert await through_pooler(conn) == bool(os.environ.get("COMPTOIR_TEST_VIA_PGBOUNCER"))
