"""A PostgreSQL server of a test's own (the embedded binaries, in a temporary directory), which
the test may stop and start: the suite's server is never touched."""

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from comptoir.db import embedded


class Cluster:
    def __init__(self, pgdata: Path) -> None:
        self.ep = embedded.server_module()
        self.server: Any = self.ep.get_server(pgdata, cleanup_mode=None)
        info = self.server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        self.pgdata = self.server.pgdata

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def _ctl(self, *args: str) -> None:
        self.ep.pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def stop(self, mode: str = "immediate") -> None:
        self._ctl("-w", "-m", mode, "stop")

    def start(self) -> None:
        log = str(self.pgdata / "restart.log")
        self._ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")

    def create_database(self, name: str) -> str:
        async def create() -> None:
            conn = await asyncpg.connect(self.url())
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return self.url(name)


@contextmanager
def own_cluster(directory: Path) -> Iterator[Cluster]:
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # the server runs as the package's system user: let it in
        directory.chmod(0o777)
        # And through the folders above, which pytest makes private (pytest-xdist adds one
        # per worker): traversal only, nothing listed.
        for folder in directory.resolve().parents:
            if folder == Path(folder.anchor) or folder.stat().st_uid != 0:
                break
            folder.chmod(folder.stat().st_mode | 0o011)
    cluster = Cluster(directory / "pg")
    try:
        yield cluster
    finally:
        cluster.stop("fast")
