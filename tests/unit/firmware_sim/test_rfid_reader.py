"""The simulated RFID reader: deterministic, configured read rates, weak cross-reads, outages."""

from __future__ import annotations

from firmware_sim.devices.rfid_reader import ReaderDevice, ReaderFrame

ANTENNAS = {1: "a", 2: "b"}
TAGS = {f"3034{i:020X}": "a" for i in range(200)}


def _reader(**kw: object) -> ReaderDevice:
    args: dict[str, object] = {
        "device_id": "r1",
        "antennas": ANTENNAS,
        "seed": 5,
        "adjacency": {"a": ["b"], "b": ["a"]},
    }
    args.update(kw)
    return ReaderDevice(**args)  # type: ignore[arg-type]


def _frames(reader: ReaderDevice, seconds: int) -> list[ReaderFrame | None]:
    return [reader.frame(k * 1000, (k + 1) * 1000, TAGS) for k in range(seconds)]


def test_same_seed_same_frames() -> None:
    assert _frames(_reader(), 20) == _frames(_reader(), 20)
    assert _frames(_reader(), 20) != _frames(_reader(seed=6), 20)


def test_rows_follow_the_contract() -> None:
    frame = _reader().frame(0, 1000, TAGS)
    assert frame is not None and frame.ants == [1, 2]
    assert len(frame.epc) == len(frame.ant) == len(frame.rssi) == len(frame.ts) == len(frame.n)
    assert all(0 <= t < 1000 for t in frame.ts)
    assert all(1 <= n <= 4 for n in frame.n)


def test_read_rate_matches_the_per_tag_probability() -> None:
    reader = _reader(
        read_prob=(0.6, 0.6),
        cross_read_rate=0.0,
        burst_fade_rate_per_h=0.0,
        tag_fade_rate_per_h=0.0,
    )
    frames = [f for f in _frames(reader, 50) if f is not None]
    reads = sum(sum(f.n) for f in frames)
    assert abs(reads / (200 * 50 * 4) - 0.6) < 0.02


def test_cross_reads_are_rarer_and_weaker() -> None:
    frames = [f for f in _frames(_reader(cross_read_rate=0.3), 30) if f is not None]
    own = [(r, n) for f in frames for a, r, n in zip(f.ant, f.rssi, f.n, strict=True) if a == 1]
    cross = [(r, n) for f in frames for a, r, n in zip(f.ant, f.rssi, f.n, strict=True) if a == 2]
    assert 0.1 < sum(n for _, n in cross) / sum(n for _, n in own) < 0.5
    assert sum(r for r, _ in cross) / len(cross) < sum(r for r, _ in own) / len(own) - 3.0


def test_outages_drop_batches_and_antennas() -> None:
    frames = _frames(_reader(outage_rate_per_h=60.0, antenna_fail_rate_per_h=60.0), 3600)
    assert 0 < sum(f is None for f in frames) < 3000
    assert any(f is not None and f.ants != [1, 2] for f in frames)
    assert all(set(f.ant) <= set(f.ants) for f in frames if f is not None)
