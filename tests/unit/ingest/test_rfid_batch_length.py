"""The RFID tracker judges the same channel the same way whatever the gateway's batch length.

Short batches (the gateway's 250 ms default) carry 2 or 3 whole rounds, never "2.5": rounds/s is
learned over a second of batches, the shadowing test looks at ~10 recent rounds, and a location
that just came back from a gap does not let cross-reads heard meanwhile settle a new tag.
"""

from __future__ import annotations

import pytest

from firmware_sim.devices.rfid_reader import ReaderDevice
from ingest.rfid import AntennaSpec, TagMoveKind, TagMovement, TagTracker, TrackerConfig

T0 = 1_763_719_200_000
SHELF = "aisle/shelf-1"
TAGS = {f"3034257BF7194E40{i:08X}": SHELF for i in range(15)}


def _quiet_reader(p: float) -> ReaderDevice:
    """Ten rounds/s, no fades, occlusions or cross-reads: every miss is plain chance."""
    return ReaderDevice(
        device_id="r1",
        antennas={1: SHELF},
        seed=11,
        rounds_per_s=10.0,
        read_prob=(p, p),
        cross_read_rate=0.0,
        burst_fade_rate_per_h=0.0,
        tag_fade_rate_per_h=0.0,
    )


def _feed(
    tracker: TagTracker, reader: ReaderDevice, tags: dict[str, str], start_ms: int, end_ms: int,
    batch_ms: int,
) -> list[tuple[TagMovement, int]]:  # fmt: skip
    out: list[tuple[TagMovement, int]] = []
    for t0 in range(start_ms, end_ms, batch_ms):
        f = reader.frame(t0, t0 + batch_ms, tags)
        assert f is not None
        moves = tracker.observe("r1", f.t0_ms, f.t1_ms, f.ants, f.epc, f.ant, f.rssi, f.ts, f.n)
        moves += tracker.expire(f.t1_ms)
        out += [(m, f.t1_ms) for m in moves]
    return out


@pytest.mark.parametrize("batch_ms", [250, 500, 1000])
def test_rounds_per_s_is_learned_right_from_short_batches(batch_ms: int) -> None:
    tracker = TagTracker(TrackerConfig(), [AntennaSpec("r1", 1, SHELF)])
    _feed(tracker, _quiet_reader(0.95), TAGS, T0, T0 + 30_000, batch_ms)
    device = tracker._devices["r1"]
    assert device.rounds_per_s == pytest.approx(10.0, abs=0.5)


@pytest.mark.parametrize("batch_ms", [250, 1000])
@pytest.mark.parametrize("p", [0.3, 0.9])
def test_an_unshadowed_shelf_counts_every_round_whatever_the_batch_length(
    batch_ms: int, p: float
) -> None:
    """No shadowing, so the observed-round clock runs at the reader's 10 rounds/s: a clock slowed
    by noise in short batches would inflate every tag's read probability and shorten its
    window, and delay every departure."""
    tracker = TagTracker(TrackerConfig(rounds_per_s=10.0), [AntennaSpec("r1", 1, SHELF)])
    moves = _feed(tracker, _quiet_reader(p), TAGS, T0, T0 + 600_000, batch_ms)
    assert [m.kind for m, _ in moves] == [TagMoveKind.ARRIVE] * len(TAGS)
    clock = tracker._locs[SHELF].clock
    assert clock == pytest.approx(6000.0, rel=0.01)


@pytest.mark.parametrize("batch_ms", [250, 1000])
def test_a_well_read_tag_departs_within_its_window_and_one_batch(batch_ms: int) -> None:
    cfg = TrackerConfig(rounds_per_s=10.0)
    tracker = TagTracker(cfg, [AntennaSpec("r1", 1, SHELF)])
    reader = _quiet_reader(0.9)
    _feed(tracker, reader, TAGS, T0, T0 + 120_000, batch_ms)
    leaving = next(iter(TAGS))
    rest = {e: k for e, k in TAGS.items() if e != leaving}
    gone_ms = T0 + 120_000
    moves = _feed(tracker, reader, rest, gone_ms, gone_ms + 20_000, batch_ms)
    assert [(m.kind, m.epc) for m, _ in moves] == [(TagMoveKind.DEPART, leaving)]
    _, emitted_ms = moves[0]
    assert emitted_ms - gone_ms <= cfg.min_window_ms + batch_ms


def test_cross_reads_heard_during_an_antenna_outage_do_not_settle_a_tag_at_the_neighbour() -> None:
    """A tag put on shelf 2 while shelf 2's antenna is out is heard only faintly by shelf 1.
    When shelf 2 comes back (250 ms batches, the first of them without a read of the tag: it is
    a poorly read tag), shelf 2's reads must win, not the cross-reads collected meanwhile: the
    tag arrives at shelf 2 and never at shelf 1."""
    specs = [AntennaSpec("r1", 1, "s1"), AntennaSpec("r1", 2, "s2")]
    tracker = TagTracker(TrackerConfig(rounds_per_s=10.0), specs)
    a, b, new = "3034257BF7194E4000000001", "3034257BF7194E4000000002", "3034257BF7194E4000000003"
    out: list[TagMovement] = []

    def batch(k: int, ants: list[int], reads: list[tuple[str, int, float, int]]) -> None:
        t0 = T0 + k * 250
        epc = [r[0] for r in reads]
        ant = [r[1] for r in reads]
        rssi: list[float | None] = [r[2] for r in reads]
        n = [r[3] for r in reads]
        ts = [t0 + 200] * len(reads)
        out.extend(tracker.observe("r1", t0, t0 + 250, ants, epc, ant, rssi, ts, n))
        out.extend(tracker.expire(t0 + 250))

    home = [(a, 1, -50.0, 2), (b, 2, -50.0, 2)]
    for k in range(80):  # 20 s: a on s1, b on s2, each cross-read by the other antenna
        batch(k, [1, 2], [*home, (a, 2, -66.0, 1), (b, 1, -66.0, 1)] if k % 4 == 0 else home)
    for k in range(80, 160):  # 20 s with antenna 2 out: `new` is on s2, faintly heard by s1
        faint = [(new, 1, -67.0, 1)] if k % 2 == 0 else []
        batch(k, [1], [(a, 1, -50.0, 2), *faint])
    for k in range(160, 240):  # antenna 2 is back: it hears `new` strongly every other batch
        own = [(new, 2, -48.0, 1)] if k % 2 == 1 else [(new, 1, -67.0, 1)]
        batch(k, [1, 2], [*home, *own])
    arrivals = [m for m in out if m.epc == new]
    assert [(m.kind, m.to_location) for m in arrivals] == [(TagMoveKind.ARRIVE, "s2")]
