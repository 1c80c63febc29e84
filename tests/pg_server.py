"""A throwaway PostgreSQL server for tests and benchmarks.

`initdb` and `pg_ctl` come from PATH. The cluster lives in a fresh temporary folder,
listens on 127.0.0.1 at a free port only, requires a generated password (SCRAM), and is
stopped and deleted when the process ends. `initdb` refuses to run as root, so as root
(CI) the server runs as the `postgres` OS user (created if missing) through `runuser`.
Nothing here touches a server it did not start.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg

SERVER_USER = "postgres"  # OS user that owns the cluster when we are root
DATABASE = "postgres"
ROLE = "cartwheel"


def binaries_available() -> bool:
    return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user() -> list[str]:
    """Command prefix that runs a server binary as a non-root user."""
    if os.geteuid() != 0:
        return []
    try:
        subprocess.run(["id", "-u", SERVER_USER], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", SERVER_USER],
            check=True,
            capture_output=True,
        )
    return ["runuser", "-u", SERVER_USER, "--"]


@dataclass
class PostgresServer:
    """One cluster: `start()`, use `url` (+ `password`), `stop()`."""

    durable: bool = False  # fsync off unless asked: a test server holds nothing of value
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    folder: Path | None = None

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "data"

    @property
    def url(self) -> str:
        """Connection URL without the password (pass it via PGPASSWORD)."""
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{ROLE}:{quote(self.password)}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*_as_server_user(), *args], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout}")

    def start(self) -> PostgresServer:
        self.folder = Path(tempfile.mkdtemp(prefix="cartwheel-pg-"))
        password_file = self.folder / "pwfile"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            _as_server_user()  # make sure the user exists before chown
            shutil.chown(self.folder, SERVER_USER)
            shutil.chown(password_file, SERVER_USER)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            ROLE,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
        )
        password_file.unlink()
        self.port = _free_port()
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.folder}",
            "-c max_connections=20",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            # Statistics come only from cartwheel's own ANALYZE: a background auto-analyze
            # would gather every column at a moment that depends on the machine's timing.
            options.append("-c autovacuum=off")
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.folder / "server.log"),
            "--options",
            " ".join(options),
            "--wait",
            "start",
        )
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder; safe to call twice."""
        if self.folder is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.data_dir), "--mode", "fast", "--wait", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


_shared: PostgresServer | None = None


def shared_server() -> PostgresServer:
    """One server per test process, started on first use and stopped at exit."""
    global _shared
    if _shared is None:
        _shared = PostgresServer().start()
    return _shared


def new_database(server: PostgresServer) -> str:
    """A fresh, empty database on `server`; returns its URL (with the password)."""
    name = f"cw_{secrets.token_hex(6)}"
    with psycopg.connect(server.url_with_password, autocommit=True) as con:
        con.execute(f"create database {name}")
    return server.url_with_password.rsplit("/", 1)[0] + f"/{name}"
