"""A real simulated store behind the web app, for the browser tests.

    firmware_sim (demo-store) ──bus──▶ edge ──▶ Mosquitto ──▶ ingest ──▶ PostgreSQL ◀── api
    Feeder (test-store, hand-made batches) ──────────┘

Every service runs as its own ``shelfsense`` child process, as ``shelfsense demo`` starts them;
the API can be killed and started again on the same port (``restart_api``). Two sites:
``demo-store`` is the simulator's busy store (realistic pages), ``test-store`` gets hand-made
RFID batches from ``Feeder`` so that a test can make one movement happen and time it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from support.services import apply_site_file, kill9, start_cli, terminate, wait_for
from support.wire import epc, publish, rfid

from shelfsense.db.sites import apply_site
from shelfsense.domain import Role
from shelfsense.runtime.ports import free_port
from shelfsense.site import load_site
from shelfsense.tokens import create_token, issue_token

DEMO_SITE = "demo-store"
TEST_SITE = "test-store"
TEST_SHELF = "floor/aisle-1/shelf-1"  # reader-1 antenna 1, planogram TUNA-160
SIM_SPEED = "10"


def _wait_for_log(path: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    def seen() -> bool:
        assert proc.poll() is None, (
            f"{path.name} exited: {path.read_text(errors='replace')[-2000:]}"
        )
        return path.exists() and text in path.read_text(errors="replace")

    wait_for(seen, timeout_s=60, what=f"{text!r} in {path.name}")


@dataclass
class Feeder:
    """Publishes test-store's reader-1 batches: one per second of event time, tiling time,
    with every tag in ``present`` read on antenna 1 (the test shelf)."""

    mqtt_url: str
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    t_ms: int = field(default_factory=lambda: int(time.time() * 1000) - 600_000)
    present: list[str] = field(default_factory=list)
    serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def arrive(self, count: int = 1, seconds: int = 6) -> list[str]:
        """Put ``count`` new tags on the shelf and publish ``seconds`` of batches (the tracker
        confirms an arrival after 3 s of event time); returns the new EPCs."""
        new = [epc(next(self.serials)) for _ in range(count)]
        self.present.extend(new)
        self.publish_seconds(seconds)
        return new

    def publish_seconds(self, seconds: int) -> None:
        topic = f"shelf/v1/{TEST_SITE}/gw-1/rfid/reader-1"
        batches = []
        for _ in range(seconds):
            reads = [(e, 1) for e in self.present]
            batches.append((topic, rfid(next(self.seq), self.t_ms, ants=(1, 2), reads=reads)))
            self.t_ms += 1000
        publish(self.mqtt_url, batches)


@dataclass
class RunningStore:
    base_url: str
    database_url: str
    mqtt_url: str
    env: dict[str, str]
    log_dir: Path
    admin: str
    operator: str
    viewer: str
    feeder: Feeder
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.database_url, autocommit=True)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        proc = start_cli(*args, env=self.env, log_path=self.log_dir / f"{name}.log")
        self.procs[name] = proc
        return proc

    def start_api(self) -> None:
        proc = self.start("api", "api", "--host", "127.0.0.1", "--port", str(self.api_port))

        def healthy() -> bool:
            assert proc.poll() is None, (self.log_dir / "api.log").read_text()[-2000:]
            try:
                return httpx.get(f"{self.base_url}/api/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, timeout_s=30, what="the API to answer /health")

    def kill_api(self) -> None:
        """SIGKILL: open streams die without a goodbye, as when the network drops."""
        kill9(self.procs.pop("api"))

    def token(self, role: Role, *, expires_in: timedelta | None = None) -> tuple[int, str]:
        expires_at = datetime.now(UTC) + expires_in if expires_in is not None else None
        with self.connect() as conn:
            return issue_token(conn, role=role, name=f"browser {role}", expires_at=expires_at)

    def add_alert(self, type_: str, subject: str, severity: str = "major") -> int:
        """An active alert of test-store on the test shelf, written as the alert engine writes
        one. Use a type the engine does not own (it clears its own types when their condition
        does not hold)."""
        with self.connect() as conn:
            row = conn.execute(
                """insert into alerts (site_id, type, subject, severity, status, location_id,
                     sku, opened_at, updated_at, details)
                   values (%s, %s, %s, %s, 'active', %s, 'TUNA-160', now(), now(), %s)
                   returning id""",
                (TEST_SITE, type_, subject, severity, TEST_SHELF, json.dumps({"qty": 0})),
            ).fetchone()
        assert row is not None
        return int(str(row[0]))

    def stop(self) -> None:
        for name in ("api", "edge", "ingest", "sim"):
            proc = self.procs.pop(name, None)
            if proc is not None and proc.poll() is None:
                try:
                    terminate(proc, 20)
                except subprocess.TimeoutExpired:
                    kill9(proc)


def start_store(database_url: str, mqtt_url: str, log_dir: Path) -> RunningStore:
    """Start the sim, ingest, edge and API; returns once demo-store has stock on its shelves."""
    env = {"SHELFSENSE_DATABASE_URL": database_url, "SHELFSENSE_MQTT_URL": mqtt_url}
    with psycopg.connect(database_url, autocommit=True) as conn:
        admin, operator, viewer = (
            create_token(conn, role=role, name=f"browser {role}")
            for role in (Role.ADMIN, Role.OPERATOR, Role.VIEWER)
        )
    base_url = f"http://127.0.0.1:{free_port()}"
    store = RunningStore(
        base_url, database_url, mqtt_url, env, log_dir, admin, operator, viewer, Feeder(mqtt_url)
    )
    try:
        _start_services(store)
    except BaseException:
        store.stop()
        raise
    return store


def _start_services(store: RunningStore) -> None:
    site_file, gateway_file = store.log_dir / "site.yaml", store.log_dir / "gateway.yaml"
    sim = store.start(
        "sim", "sim", "--scenario", "demo", "--seed", "1", "--speed", SIM_SPEED,
        "--listen", f"127.0.0.1:{free_port()}", "--site-out", str(site_file),
        "--gateway-out", str(gateway_file), "--wait-for-clients", "1",
    )  # fmt: skip
    _wait_for_log(store.log_dir / "sim.log", "device bus listening", sim)
    with psycopg.connect(store.database_url, autocommit=True) as conn:
        apply_site(conn, load_site(site_file.read_text(), str(site_file)))
    apply_site_file(store.database_url)  # test-store
    ingest = store.start("ingest", "ingest")
    _wait_for_log(store.log_dir / "ingest.log", "ingest running", ingest)
    store.start("edge", "edge", "--config", str(gateway_file))
    store.start_api()
    wait_for(lambda: _stocked_shelves(store) >= 10, timeout_s=60, what="stock on demo shelves")


def _stocked_shelves(store: RunningStore) -> int:
    with store.connect() as conn:
        row = conn.execute(
            "select count(distinct location_id) from stock where site_id = %s and qty > 0",
            (DEMO_SITE,),
        ).fetchone()
    return int(str(row[0])) if row else 0
