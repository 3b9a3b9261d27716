"""The committed sample store (written by `tests/support/fabricate.py`, one record of
every anomaly of the import contract) through the command line, as an operator runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

SAMPLE = Path(__file__).parent / "sample"
EXPECTED_REJECTS = {
    ("users", "duplicate id"), ("products", "duplicate id"), ("products", "negative price"),
    ("products", "price is not a number"), ("carts", "unknown user"),
    ("orders", "payment intent already used by another order"),
    ("orders", "line 1: quantity is not a positive integer"),
    ("orders", "same product twice at different prices"),
    ("orders", "unknown user"), ("leads", "no email"),
    ("analytics", "duplicate id"), ("analytics", "no date"),
}  # fmt: skip


async def test_the_sample_store_imports_through_the_cli_with_every_anomaly_accounted_for(
    idb: asyncpg.Connection, import_url: str, tmp_path: Path
) -> None:
    result = subprocess.run(  # noqa: ASYNC221 - the CLI is what is under test
        [str(Path(sys.executable).parent / "comptoir"), "import-json", str(SAMPLE),
         "--rejects", str(tmp_path / "rejects.jsonl"),
         "--report-json", str(tmp_path / "report.json")],
        env={**os.environ, "DATABASE_URL": import_url, "COLUMNS": "200"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 3, result.stderr  # records rejected: the documented code
    assert "reconciled" in result.stdout and "NOT reconciled" not in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["reconciled"] and report["balanced"] and not report["dry_run"]
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    # A reason goes on with the fields expected and seen: its first words say which it is.
    assert {(r["collection"], r["reason"].split(" (")[0]) for r in rejects} == EXPECTED_REJECTS
    notes = {note for outcome in report["collections"].values() for note in outcome["notes"]}
    assert notes >= {
        "NUL characters removed", "plain-text password hashed with argon2id",
        "no usable password: login refused until one is set",
        "unknown role 'superuser' imported as customer", "price rounded to cents",
        "negative stock: 0", "stock missing: 0", "cart line for an unknown product dropped",
        "cart line with a bad quantity dropped", "same product twice in a cart: quantities summed",
        "same product twice in an order: lines merged", "total differs from its lines: lines win",
        "event of an unknown user kept without user",
        "payload not an object: wrapped as {value: ...}",
    }  # fmt: skip
    assert report["collections"]["users"]["merged"] >= 1
    assert report["placeholder_products"] >= 1
    assert (
        await idb.fetchval("SELECT count(*) FROM orders")
        == report["collections"]["orders"]["imported"]
    )
