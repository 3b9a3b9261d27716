"""The chaos run, short: a few seconds of checkouts with one server SIGKILL and one
PostgreSQL immediate stop (bench/chaos.py runs it for minutes). Every acknowledged order must
be found and the stock invariants must hold."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_orders_survive_a_server_kill_and_a_postgres_restart() -> None:
    done = subprocess.run(
        [sys.executable, "chaos.py", "--duration", "11", "--every", "3.5", "--customers", "4"],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout

    def number(pattern: str) -> int:
        match = re.search(pattern, report)
        assert match is not None, report
        return int(match.group(1))

    acknowledged = number(r"orders acknowledged \(201\): (\d+)")
    found = number(r"orders found: +(\d+)")
    assert acknowledged > 0 and found == acknowledged, report
    assert "invariant violations:      0" in report, report
    assert "server SIGKILL" in report and "PostgreSQL immediate stop" in report, report
    assert "never" not in report, report  # the shop answered checkouts again after each fault
