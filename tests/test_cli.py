"""The migration commands, run as an operator would, against a scratch database."""

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from comptoir.cli import app
from comptoir.db import migrate
from tests.conftest import fresh_database


@pytest.fixture
def scratch(server_url: str) -> Iterator[str]:
    # The commands run their own event loops, as they do in a shell: these tests are sync.
    with fresh_database(server_url, "comptoir_cli") as url:
        yield url


def run(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["--database-url", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_upgrade_current_downgrade(scratch: str) -> None:
    head = migrate.head_revision()
    assert "base (behind" in run(scratch, "db", "current")
    assert f"database at revision {head}" in run(scratch, "db", "upgrade")
    assert f"{head} (up to date)" in run(scratch, "db", "current")
    assert "database at revision base" in run(scratch, "db", "downgrade", "base")


def test_unreachable_server_is_one_line_and_exit_1() -> None:
    result = CliRunner().invoke(
        app, ["--database-url", "postgresql://nobody@127.0.0.1:1/none", "db", "current"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("error:")
    assert "Traceback" not in result.output
