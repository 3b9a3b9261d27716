"""Real processes for the tests past one machine: PgBouncer, HAProxy, `comptoir serve`.

Every wait is on readiness (a port that answers, /readyz), never a sleep. Ports come from
COMPTOIR_TEST_PORTS (`21100-21199`) when set, so that runs on a shared machine keep to
their own range; else the system picks.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

# Daemons that refuse root (PgBouncer, PostgreSQL) run as this account when the tests do.
SERVICE_USER = "postgres"


def require(binary: str) -> str:
    """The binary's path; a skip when missing, unless CI demands it (COMPTOIR_REQUIRE_POOLER)."""
    path = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if Path(p).exists()), None
    )
    if path is None:
        if os.environ.get("COMPTOIR_REQUIRE_POOLER"):
            raise AssertionError(f"{binary} is required (COMPTOIR_REQUIRE_POOLER) and missing")
        pytest.skip(f"{binary} is not installed")
    return path


@contextmanager
def shared_dir() -> Iterator[Path]:
    """A folder the service account can read (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="comptoir-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def as_service(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVICE_USER, "--", *command]


def chown_to_service(path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVICE_USER)
        for item in [path, *path.rglob("*")]:
            os.chown(item, account.pw_uid, account.pw_gid)


def wait_port(port: int, process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@contextmanager
def pgbouncer(target_port: int, mode: str, users: list[str]) -> Iterator[int]:
    """PgBouncer on loopback in front of 127.0.0.1:`target_port`, every database."""
    binary = require("pgbouncer")
    port = free_port()
    with shared_dir() as folder:
        (folder / "users.txt").write_text("".join(f'"{user}" ""\n' for user in users))
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={target_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
            f"unix_socket_dir =\nauth_type = trust\nauth_file = {folder}/users.txt\n"
            f"pool_mode = {mode}\ndefault_pool_size = 8\nmax_client_conn = 500\n"
            f"logfile = {folder}/pgbouncer.log\npidfile =\n"
        )
        chown_to_service(folder)
        process = subprocess.Popen(
            as_service([binary, str(folder / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(port, process)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def serve(env: dict[str, str], *args: str) -> Iterator[str]:
    """`comptoir serve` on a port of its own; its base URL once /readyz says 200."""
    with serve_together([env], *args) as (base,):
        yield base


@contextmanager
def serve_together(envs: list[dict[str, str]], *args: str) -> Iterator[list[str]]:
    """Several `comptoir serve` started at the same moment (all migrating, if the database
    needs it); their base URLs once each /readyz says 200."""
    started: list[tuple[subprocess.Popen[str], str]] = []
    try:
        for env in envs:
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "comptoir", "serve", "--port", str(port), *args],
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, base in started:
            wait_ready(process, base)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.communicate(timeout=60)


@contextmanager
def haproxy(backends: list[str]) -> Iterator[str]:
    """HAProxy on loopback, round robin over `backends`, each checked on /readyz."""
    binary = require("haproxy")
    port = free_port()
    servers = "".join(
        f"    server s{i} {base.removeprefix('http://')} check\n" for i, base in enumerate(backends)
    )
    with shared_dir() as folder:
        config = folder / "haproxy.cfg"
        config.write_text(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n"
            "    timeout server 30s\n"
            f"frontend shop\n    bind 127.0.0.1:{port}\n    default_backend app\n"
            "backend app\n    balance roundrobin\n    option forwardfor\n"
            "    option httpchk GET /readyz\n    http-reuse never\n" + servers
        )
        process = subprocess.Popen([binary, "-db", "-f", str(config)])
        try:
            wait_port(port, process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis of the test's own (never the machine's), without persistence."""
    binary = require("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_port(port, process)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def wait_ready(process: subprocess.Popen[str], base: str) -> None:
    assert process.stdout is not None  # started with stdout=PIPE
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")
