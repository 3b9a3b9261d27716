"""Settings are validated at start; a bad value is one clear line naming the variable."""

import pytest
from typer.testing import CliRunner

from comptoir.cli import app
from comptoir.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url is None
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert (settings.pool_min, settings.pool_max) == (10, 30)


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop@db.internal/shop")
    monkeypatch.setenv("COMPTOIR_PORT", "9000")
    monkeypatch.setenv("COMPTOIR_POOL_MAX", "12")
    settings = load_settings()
    assert settings.database_url == "postgresql://shop@db.internal/shop"
    assert (settings.port, settings.pool_max) == (9000, 12)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("COMPTOIR_PORT", "eighty", "COMPTOIR_PORT"),
        ("COMPTOIR_PORT", "70000", "COMPTOIR_PORT"),
        ("COMPTOIR_WORKERS", "0", "COMPTOIR_WORKERS"),
        ("DATABASE_URL", "mysql://root@localhost/shop", "DATABASE_URL"),
        ("COMPTOIR_POOL_MAX", "2", "COMPTOIR_POOL_MAX"),
        ("COMPTOIR_LEADS_RATE_LIMIT", "often", "COMPTOIR_LEADS_RATE_LIMIT"),
        ("COMPTOIR_EVENTS_RATE_LIMIT", "lots", "COMPTOIR_EVENTS_RATE_LIMIT"),
        ("COMPTOIR_EVENTS_RETENTION_MONTHS", "0", "COMPTOIR_EVENTS_RETENTION_MONTHS"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=named):
        load_settings()


def test_cli_stops_on_a_bad_setting_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPTOIR_POOL_MIN", "lots")
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "COMPTOIR_POOL_MIN" in lines[0]
    assert "Traceback" not in result.output
