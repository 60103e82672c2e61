"""The simulator over real TCP: clients get every frame, valid and in time order, fast or paced."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_sim import SimConfig, SimResult, read_truth, replay, run_sim
from shelfsense.cli import main as shelfsense_main
from shelfsense.devbus import Frame, decode_frame
from shelfsense.site import load_site

T0 = 1_763_719_200_000


class Client(threading.Thread):
    """Connects to the bus and reads until the server closes; ``pause_s`` before reading."""

    def __init__(self, address: str, pause_s: float = 0.0) -> None:
        super().__init__(daemon=True)
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.pause_s = pause_s
        self.data = bytearray()

    def run(self) -> None:
        time.sleep(self.pause_s)
        while chunk := self.sock.recv(1 << 16):
            self.data += chunk
        self.sock.close()

    def frames(self) -> list[Frame]:
        return [decode_frame(line) for line in bytes(self.data).splitlines()]


def _run_with_clients(
    config: SimConfig, make_clients: Callable[[str], list[Client]]
) -> tuple[SimResult, list[Client]]:
    clients: list[Client] = []

    def ready(address: str | None) -> None:
        assert address is not None
        clients.extend(make_clients(address))
        for c in clients:
            c.start()

    result = run_sim(config, stop=threading.Event(), on_ready=ready)
    for c in clients:
        c.join(timeout=60)
        assert not c.is_alive()
    return result, clients


def _assert_time_ordered(frames: list[Frame]) -> None:
    last_t1: dict[str, int] = {}
    for f in frames:
        assert f.t0 >= last_t1.get(f.device, 0), f"{f.device} went back in time"
        last_t1[f.device] = f.t1


def test_every_client_gets_every_frame_valid_and_in_time_order(tmp_path: Path) -> None:
    config = SimConfig(
        scenario="alerts",
        seed=1,
        speed=0,
        duration_s=600,
        start_ms=T0,
        wait_for_clients=2,
        truth_path=tmp_path / "truth.jsonl",
    )
    result, clients = _run_with_clients(config, lambda a: [Client(a), Client(a)])
    assert result.completed and result.end_ms == T0 + 600_000
    first, second = (c.frames() for c in clients)
    assert len(first) == len(second) == result.frames > 0
    assert [f.body for f in first] == [f.body for f in second]
    _assert_time_ordered(first)
    assert {f.kind for f in first} == {"rfid", "weight", "env"}


def test_a_slow_client_slows_the_sim_down_but_loses_nothing(tmp_path: Path) -> None:
    config = SimConfig(
        scenario="alerts",
        seed=2,
        speed=0,
        duration_s=300,
        start_ms=T0,
        wait_for_clients=1,
        queue_frames=4,
    )
    result, [client] = _run_with_clients(config, lambda a: [Client(a, pause_s=1.0)])
    assert len(client.frames()) == result.frames
    assert result.wall_s >= 0.5  # it had to wait for the client


def test_speed_zero_runs_an_hour_of_store_time_in_seconds(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    config = SimConfig(
        scenario="steady",
        seed=3,
        speed=0,
        duration_s=3600,
        start_ms=T0,
        wait_for_clients=1,
        truth_path=truth,
    )
    result, [client] = _run_with_clients(config, lambda a: [Client(a)])
    assert result.completed and result.wall_s < 60, result.wall_s
    frames = client.frames()
    assert len(frames) == result.frames
    _assert_time_ordered(frames)
    records = read_truth(truth)
    assert records[-1]["kind"] == "checkpoint" and records[-1]["ts"] == T0 + 3_600_000
    assert records[-1]["stock"] == result.final_stock
    site = load_site(_site_text(tmp_path, "steady"))
    stock_locations = [
        loc.id for loc in site.locations if loc.kind in ("shelf", "storage", "cooler")
    ]
    assert replay(records, stock_locations) == result.final_stock


def _site_text(tmp_path: Path, scenario: str) -> str:
    out = tmp_path / f"{scenario}-site.yaml"
    code = shelfsense_main(
        ["sim", "--scenario", scenario, "--speed", "0", "--duration-s", "1", "--site-out", str(out)]
    )
    assert code == 0
    return out.read_text()


def test_speed_paces_store_time_against_the_wall_clock() -> None:
    config = SimConfig(scenario="alerts", speed=120, duration_s=60, start_ms=T0, listen=None)
    sent: list[bytes] = []
    result = run_sim(config, stop=threading.Event(), sink=sent.append)
    assert 0.45 <= result.wall_s < 3.0
    assert len(sent) == result.frames


def test_stop_ends_the_run_early_with_a_final_checkpoint(tmp_path: Path) -> None:
    stop = threading.Event()
    truth = tmp_path / "truth.jsonl"
    config = SimConfig(
        scenario="demo", speed=60, duration_s=3600, start_ms=T0, listen=None, truth_path=truth
    )
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    result = run_sim(config, stop=stop, sink=lambda line: None)
    timer.cancel()
    assert not result.completed and T0 < result.end_ms < T0 + 3_600_000
    last = read_truth(truth)[-1]
    assert last["kind"] == "checkpoint" and last["ts"] == result.end_ms


def test_the_cli_writes_a_site_file_and_a_gateway_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, gateway = tmp_path / "site.yaml", tmp_path / "gw.yaml"
    code = shelfsense_main(
        [
            "sim",
            "--scenario",
            "demo",
            "--speed",
            "0",
            "--duration-s",
            "30",
            "--start-ms",
            str(T0),
            "--truth",
            str(tmp_path / "t.jsonl"),
            "--site-out",
            str(site),
            "--gateway-out",
            str(gateway),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "device bus listening on 127.0.0.1:" in out and "done: scenario demo" in out
    assert load_site(site.read_text(), str(site)).site == "demo-store"
    text = gateway.read_text()
    assert "driver: devbus" in text and "spool_path:" in text and "gateway: gw-1" in text
