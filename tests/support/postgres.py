"""A throwaway PostgreSQL cluster for the test session.

``initdb`` refuses to run as root, so as root the cluster is created and started through
``runuser -u postgres`` in a temporary directory that user owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        candidate = root / binary
        if candidate.exists():
            return str(candidate)
    return None


@dataclass
class Cluster:
    directory: Path
    port: int
    pg_ctl: str
    as_postgres: bool

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        cmd = [self.pg_ctl, "-D", str(self.directory / "data"), "-m", "immediate", "stop"]
        _run(cmd, self.as_postgres, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def _run(cmd: list[str], as_postgres: bool, *, check: bool = True) -> None:
    if as_postgres:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise PostgresUnavailable(f"{' '.join(cmd)} failed: {result.stderr.strip()[-500:]}")


def start_cluster() -> Cluster:
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if not initdb or not pg_ctl:
        raise PostgresUnavailable("initdb/pg_ctl not found on PATH or under /usr/lib/postgresql")
    as_postgres = os.geteuid() == 0
    directory = Path(tempfile.mkdtemp(prefix="liaison-pg-"))
    if as_postgres:
        shutil.chown(directory, user="postgres")
    data = directory / "data"
    _run(
        [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        as_postgres,
    )
    port = _free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _run(
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"],
        as_postgres,
    )
    cluster = Cluster(directory, port, pg_ctl, as_postgres)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return cluster
        time.sleep(0.1)  # waiting for a server to accept connections, not timing a test
    cluster.stop()
    raise PostgresUnavailable("the PostgreSQL server did not start")
