"""A PostgreSQL 15 primary and its streaming replica on loopback, from the server binaries
(initdb, pg_basebackup -R, pg_ctl), in a folder of the test's own. The suite's server is
never touched. Ports from COMPTOIR_TEST_PG_PORTS (`21432-21439`) when set."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pooling.processes import as_service, chown_to_service, shared_dir
from tests.support.ports import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class Node:
    data: Path
    port: int

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def ctl(self, *args: str) -> None:
        log = self.data.parent / f"{self.data.name}.log"
        command = [str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", *args]
        subprocess.run(as_service(command), check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.ctl("start")

    def stop(self) -> None:
        self.ctl("-m", "immediate", "stop")


def run(*command: str) -> None:
    subprocess.run(as_service(list(command)), check=True, capture_output=True, timeout=300)


@contextmanager
def primary_and_replica() -> Iterator[tuple[Node, Node]]:
    if not (BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15's binaries are not installed")
    with shared_dir() as folder:
        chown_to_service(folder)
        primary = Node(folder / "primary", free_port("COMPTOIR_TEST_PG_PORTS"))
        run(str(BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust")
        settings = (
            f"port = {primary.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{folder}'\nfsync = off\nshared_buffers = 32MB\n"
            "max_connections = 200\n"
        )
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        primary.start()
        try:
            replica = Node(folder / "replica", free_port("COMPTOIR_TEST_PG_PORTS"))
            run(
                str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                "-U", "postgres", "-D", str(replica.data), "-R", "-X", "stream",
            )  # fmt: skip
            with (replica.data / "postgresql.conf").open("a") as conf:
                conf.write(f"port = {replica.port}\n")
            replica.start()
            try:
                yield primary, replica
            finally:
                with suppress(subprocess.CalledProcessError):
                    replica.stop()
        finally:
            primary.stop()
