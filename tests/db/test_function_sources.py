"""SQL functions live one per file and are re-applied when their file changes
(comptoir/db/repeatable.py): what a developer relies on when they edit one."""

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from comptoir.db import migrate, repeatable
from tests.conftest import migrated_database


def fetch(url: str, sql: str) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


FUNCTIONS = """
SELECT p.proname AS name FROM pg_proc AS p
WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
"""
APPLIED = "SELECT name, checksum, applied_at FROM schema_functions ORDER BY name"
BODY = "SELECT prosrc FROM pg_proc WHERE proname = 'place_order_as_buyer'"


@pytest.fixture
def edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the function files that the test may edit, used by the migrator."""
    folder = tmp_path / "functions"
    shutil.copytree(repeatable.FUNCTIONS, folder)
    monkeypatch.setattr(repeatable, "FUNCTIONS", folder)
    return folder


def edit(folder: Path, name: str, marker: str) -> None:
    path = folder / f"{name}.sql"
    path.write_text(path.read_text().replace("BEGIN\n", f"BEGIN\n    -- {marker}\n", 1))


def test_every_function_has_a_file_or_a_reason(server_url: str) -> None:
    with migrated_database(server_url, "comptoir_fn") as url:
        in_database = {row["name"] for row in fetch(url, FUNCTIONS)}
        files = {source.name for source in repeatable.sources()}
        assert in_database == files | repeatable.VERSIONED
        applied = {row["name"]: row["checksum"] for row in fetch(url, APPLIED)}
        assert applied == {s.name: s.checksum for s in repeatable.sources()}


def test_an_edited_file_is_applied_at_the_next_upgrade_and_only_it(
    server_url: str, edited: Path
) -> None:
    with migrated_database(server_url, "comptoir_fn") as url:
        before = {row["name"]: row for row in fetch(url, APPLIED)}
        edit(edited, "place_order_as_buyer", "edited in a test")

        migrate.upgrade(url)

        assert "edited in a test" in fetch(url, BODY)[0]["prosrc"]
        after = {row["name"]: row for row in fetch(url, APPLIED)}
        changed = {
            name for name in after if after[name]["applied_at"] != before[name]["applied_at"]
        }
        assert changed == {"place_order_as_buyer"}
        assert (
            after["place_order_as_buyer"]["checksum"] != before["place_order_as_buyer"]["checksum"]
        )


def test_below_the_head_the_revisions_functions_then_the_files_again(
    server_url: str, edited: Path
) -> None:
    with migrated_database(server_url, "comptoir_fn") as url:
        edit(edited, "place_order_as_buyer", "the file's version")
        migrate.upgrade(url)
        # Down past the revision that made the function: the revision's own definition
        # comes back, and nothing claims the file's is applied.
        migrate.downgrade(url, "0007")
        assert "the file's version" not in fetch(url, BODY)[0]["prosrc"]

        migrate.upgrade(url)

        assert "the file's version" in fetch(url, BODY)[0]["prosrc"]
