"""A throwaway PostgreSQL server on 127.0.0.1 for the sweep tests (Debian's ``postgresql`` package)."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MISSING = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found: install them with "
    "`apt-get install -y postgresql` (the CI script .ci/run does)"
)


def server_bin() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin (Debian keeps them off PATH), else the folder of pg_ctl on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]), reverse=True)
    if found:
        return found[0].parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One server in its own folder; ``stop`` and ``start`` it again (same port, same data) to test a lost server.

    PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` user (``runuser``), in a
    folder under /tmp that it owns.
    """

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str) -> None:
        done = subprocess.run([*self.as_postgres, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def init(self) -> None:
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self.run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the server's machine goes down."""
        self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        done = subprocess.run(
            [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"], capture_output=True
        )
        return done.returncode == 0


@contextmanager
def postgres_cluster(bin_dir: Path) -> Iterator[PostgresServer]:
    """A running server in a temporary folder; stopped and removed at the end."""
    server = PostgresServer(bin_dir, Path(tempfile.mkdtemp(prefix="litfashion-pg-")))
    try:
        server.init()
        server.start()
        try:
            yield server
        finally:
            if server.running():
                server.stop()
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)


@contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """Runs initdb and pg_ctl in a temporary folder and yields the server's SQLAlchemy URL; stopped at the end."""
    with postgres_cluster(bin_dir) as server:
        yield server.url
