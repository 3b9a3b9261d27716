"""The conventions a tool can check (CONTRIBUTING.md): where SQL is sent from, and which way
the imports run. A failure names the file and line to move."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "comptoir"
# asyncpg's verbs that send SQL.
SENDS_SQL = {
    "fetch",
    "fetchrow",
    "fetchval",
    "fetchmany",
    "execute",
    "executemany",
    "cursor",
    "copy_to_table",
    "copy_from_table",
    "copy_from_query",
    "copy_records_to_table",
}
DOMAINS = sorted(
    path.name for path in SRC.iterdir() if path.is_dir() and (path / "__init__.py").exists()
)


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def sends_sql_here(path: Path) -> bool:
    relative = path.relative_to(SRC)
    return relative.name == "queries.py" or relative.parts[0] == "db"


def sql_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(SRC)}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SENDS_SQL
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id in {"re", "self"})
    ]


def test_sql_is_sent_from_queries_modules_and_db_only() -> None:
    misplaced = [call for path in modules() if not sends_sql_here(path) for call in sql_calls(path)]
    assert misplaced == [], "move these into the domain's queries.py"


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted((SRC / "db").rglob("*.py")), ids=str)
def test_db_imports_no_domain(path: Path) -> None:
    """db/ is the door, the pool, the server and the migrations: every domain uses it, so it
    uses none (settings, errors and observability are not domains)."""
    domains = {f"comptoir.{name}" for name in DOMAINS if name not in ("db", "observability")}
    wrong = [
        name
        for name in imported_modules(path)
        if any(name == domain or name.startswith(domain + ".") for domain in domains)
    ]
    assert wrong == []


def test_dependencies_are_async() -> None:
    """FastAPI runs a plain `def` dependency in a worker thread: a thread hop per request
    (two of them cost the catalog page a fifth of its rate). Every function handed to
    `Depends` is `async def`."""
    kinds: dict[str, set[bool]] = {}
    trees = {path: ast.parse(path.read_text(), str(path)) for path in modules()}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kinds.setdefault(node.name, set()).add(isinstance(node, ast.AsyncFunctionDef))
    sync = [
        f"{path.relative_to(SRC)}:{node.lineno} Depends({name})"
        for path, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Depends"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and False in kinds.get(name := node.args[0].id, set())
    ]
    assert sync == [], "make these dependencies async def"


# Modules that take a second or more to load between them, and that the command line needs
# only for some commands: the web stack for `serve`, Alembic for a migration to make.
HEAVY = ("fastapi", "starlette", "uvicorn", "alembic", "sqlalchemy", "stripe")
LOADED = """
import sys
import comptoir.cli, comptoir.db.migrate, comptoir.db.server, comptoir.importer.inspect
import comptoir.importer.run, comptoir.settings
sys.argv = ["comptoir", "import-json", "--help"]
try:
    comptoir.cli.main()
except SystemExit:
    pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_command_line_and_the_importer_load_no_web_stack_nor_alembic() -> None:
    """Every command paid for them at start: 1.3 s of a 4.2 s import of 100k records
    (bench/README.md). A command imports what it uses in its body; `migrate.upgrade` loads
    Alembic only when the database is not at the head."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split()) & set(HEAVY)
    assert "--rejects" in done.stdout  # the command's help was printed
    assert loaded == set()
