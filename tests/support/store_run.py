"""A whole simulated store on real processes, for end-to-end tests.

    with running_store(database_url, mqtt_url, tmp_path, scenario="steady", ...) as store:
        store.sim.wait(600); store.drain(); ...

firmware_sim serves the devices, the edge batches and spools them, Mosquitto carries them,
ingest turns them into stock, and the API answers — each its own `shelfsense` process.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from shelfsense.runtime import free_port
from support.services import apply_site_file_path, start_cli, terminate, wait_for


@dataclass
class RunningStore:
    database_url: str
    workdir: Path
    api_port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def truth(self) -> Path:
        return self.workdir / "truth.jsonl"

    @property
    def sim(self) -> subprocess.Popen[bytes]:
        return self.procs["sim"]

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def ledger_rows(self) -> int:
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("select count(*) from batch_ledger").fetchone()
        return int(row[0]) if row else 0

    def wait_quiet(self, *, timeout_s: float = 300, what: str = "ingest to catch up") -> None:
        """Until the ledger has not grown for two seconds (and has something in it)."""
        seen: list[int] = []

        def quiet() -> bool:
            seen.append(self.ledger_rows())
            return len(seen) > 40 and seen[-1] == seen[-40] and seen[-1] > 0

        wait_for(quiet, timeout_s=timeout_s, what=what)

    def finish(self) -> None:
        """The simulator has run its course: stop the edge (it flushes its last partial
        batches), then wait for ingest to apply everything."""
        assert self.sim.wait(600) == 0, self.log("sim")[-2000:]
        assert terminate(self.procs["edge"]) == 0
        self.wait_quiet()


@contextmanager
def running_store(
    database_url: str,
    mqtt_url: str,
    workdir: Path,
    *,
    scenario: str,
    seed: int,
    sim_args: Sequence[str] = (),
    notify: bool = False,
) -> Iterator[RunningStore]:
    env = {
        "SHELFSENSE_DATABASE_URL": database_url,
        "SHELFSENSE_MQTT_URL": mqtt_url,
        "SHELFSENSE_MQTT_PREFIX": "e2e" + workdir.name[-8:].replace("-", ""),
    }
    store = RunningStore(database_url, workdir, free_port())
    site, gateway = workdir / "site.yaml", workdir / "gateway.yaml"

    def start(name: str, *args: str) -> None:
        store.procs[name] = start_cli(*args, env=env, log_path=workdir / f"{name}.log")

    try:
        start(
            "sim",
            "sim",
            "--scenario",
            scenario,
            "--seed",
            str(seed),
            "--speed",
            "0",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--site-out",
            str(site),
            "--gateway-out",
            str(gateway),
            "--truth",
            str(store.truth),
            "--wait-for-clients",
            "1",
            *sim_args,
        )
        wait_for(
            lambda: "device bus listening" in store.log("sim"), timeout_s=60, what="the simulator"
        )
        apply_site_file_path(database_url, site)
        start("ingest", "ingest", "--client-id", f"e2e-{scenario}")
        wait_for(lambda: "ingest running" in store.log("ingest"), timeout_s=60, what="ingest")
        start("edge", "edge", "--config", str(gateway))
        start("api", "api", "--port", str(store.api_port))
        if notify:
            start("notify", "notify", "--public-url", f"http://127.0.0.1:{store.api_port}")
        yield store
    finally:
        for proc in reversed(store.procs.values()):
            if proc.poll() is None:
                terminate(proc)
