"""`comptoir serve` on the embedded server, as a newcomer runs it: no DATABASE_URL, nothing
installed but the package. Several processes share one server; the last one out stops it;
the data is still there at the next start."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from tests.support.ports import free_port


def postmaster(data_dir: Path) -> tuple[int, str] | None:
    """The running server's pid and socket directory, or None when it is stopped."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    pid = int(lines[0])
    return (pid, lines[4]) if psutil.pid_exists(pid) else None


def server_alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        process.wait(timeout=10)
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        pass
    try:
        # In a container whose init does not reap, a stopped server lingers as a zombie.
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Shop:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["COMPTOIR_DATA_DIR"] = str(data_dir)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "comptoir", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process.stdout is not None  # stdout=PIPE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited early:\n{self.process.stdout.read()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail("serve did not become ready")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, output
        return output


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    # Whatever happened, leave no server behind.
    if running := postmaster(tmp_path):
        psutil.Process(running[0]).terminate()


def test_serve_on_the_embedded_server_shares_it_stops_it_and_keeps_the_data(
    data_dir: Path,
) -> None:
    first = Shop(data_dir)
    first.wait_ready()
    running = postmaster(data_dir)
    assert running is not None
    server_pid, socket_dir = running

    url = f"postgresql://postgres@/comptoir?host={socket_dir}"

    async def write() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("INSERT INTO products (name, price) VALUES ('Kept', 1.00)")
        assert await conn.fetchval("SHOW shared_preload_libraries") == "pg_stat_statements"
        await conn.close()

    asyncio.run(write())

    second = Shop(data_dir)
    second.wait_ready()
    assert postmaster(data_dir) == running, "the second process must reuse the server"

    output = first.stop()
    assert f"http://localhost:{first.port}/docs" in output
    assert postmaster(data_dir) == running, "the server must outlive the first process"
    assert httpx.get(f"http://127.0.0.1:{second.port}/readyz").status_code == 200

    second.stop()
    assert postmaster(data_dir) is None, "the last process out stops the server"
    assert not server_alive(server_pid)

    third = Shop(data_dir)
    third.wait_ready()

    restarted = postmaster(data_dir)
    assert restarted is not None

    async def read() -> list[str]:
        conn = await asyncpg.connect(f"postgresql://postgres@/comptoir?host={restarted[1]}")
        names = [r["name"] for r in await conn.fetch("SELECT name FROM products")]
        await conn.close()
        return names

    assert asyncio.run(read()) == ["Kept"]
    third.stop()
