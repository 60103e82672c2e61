"""Properties of the debouncer under random read patterns (hypothesis draws p, seeds, timings).

Reads are Bernoulli per inventory round (4 rounds per 1 s batch), RSSI fades N(0, 2 dB), and the
neighbour shelf cross-reads the tag at a lower RSSI. A tag that never moves must produce exactly one
arrival; a tag moved once must produce exactly one arrival and one move, to the right shelf. A
tracker restored from a JSON snapshot, fed the same batches, emits exactly what the original does.
"""

from __future__ import annotations

import json
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.rfid import AntennaSpec, TagMoveKind, TagMovement, TagTracker, TrackerConfig

T0 = 1_763_719_200_000
EPC = "3034257BF7194E4000001A85"
ROUNDS = 4
SHELVES = ("aisle/shelf-1", "aisle/shelf-2")
ANTENNAS = [AntennaSpec("r1", 1, SHELVES[0]), AntennaSpec("r1", 2, SHELVES[1])]


def _batch(
    rng: random.Random, p: float, port: int, cross: float, margin_db: float
) -> list[tuple[int, float, int]]:
    reads = []
    for ant, prob, loss in ((port, p, 0.0), (3 - port, p * cross, margin_db)):
        n = sum(rng.random() < prob for _ in range(ROUNDS))
        if n:
            reads.append((ant, -55.0 - loss + rng.gauss(0.0, 2.0), n))
    return reads


def _run(
    seed: int, p: float, cross: float, margin_db: float, ports: list[int]
) -> list[TagMovement]:
    rng = random.Random(seed)
    tracker = TagTracker(TrackerConfig(), ANTENNAS)
    out: list[TagMovement] = []
    for k, port in enumerate(ports):
        t0 = T0 + 1000 * k
        reads = _batch(rng, p, port, cross, margin_db)
        ts = [t0 + rng.randrange(1000) for _ in reads]
        out += tracker.observe(
            "r1", t0, t0 + 1000, [1, 2], [EPC] * len(reads), [a for a, _, _ in reads],
            [r for _, r, _ in reads], ts, [n for _, _, n in reads],
        )  # fmt: skip
        out += tracker.expire(t0 + 1000)
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.floats(0.3, 0.95),
    cross=st.floats(0.0, 0.3),
    margin_db=st.floats(4.0, 12.0),
)
def test_a_tag_that_never_moves_only_arrives(
    seed: int, p: float, cross: float, margin_db: float
) -> None:
    out = _run(seed, p, cross, margin_db, [1] * 900)
    assert [(m.kind, m.to_location) for m in out] == [(TagMoveKind.ARRIVE, SHELVES[0])]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.floats(0.3, 0.95),
    cross=st.floats(0.0, 0.3),
    margin_db=st.floats(4.0, 12.0),
    before_s=st.integers(60, 300),
)
def test_every_true_move_is_found_once(
    seed: int, p: float, cross: float, margin_db: float, before_s: int
) -> None:
    out = _run(seed, p, cross, margin_db, [1] * before_s + [2] * 120)
    assert [m.kind for m in out] == [TagMoveKind.ARRIVE, TagMoveKind.MOVE]
    move = out[1]
    assert (move.from_location, move.to_location) == SHELVES
    assert abs(move.ts_ms - (T0 + 1000 * before_s)) <= 30_000  # low p + 30 % cross: slow


Batch = tuple[int, list[int], list[str], list[int], list[float], list[int], list[int]]


def _story(seed: int, p: float, cross: float, seconds: int) -> list[Batch | int]:
    """Batches of reader r1 (1 s each) for six tags that arrive, move, leave and come back, with
    antennas missing from `ants`, skipped batches (gaps) and gateway outages (an int: the
    watermark at which `device_offline` is called, followed by contiguous replayed batches)."""
    rng = random.Random(seed)
    epcs = [f"3034257BF7194E40000{i:05X}" for i in range(6)]
    where = {e: rng.choice([1, 2, None]) for e in epcs}
    out: list[Batch | int] = []
    for k in range(seconds):
        t0 = T0 + 1000 * k
        for e in epcs:
            if rng.random() < 0.01:
                where[e] = rng.choice([1, 2, None])
        if rng.random() < 0.01:
            out.append(t0)  # the gateway went offline; its spool replays what follows
        if rng.random() < 0.02:
            continue  # a gap: no batch for this second
        ants = [a for a in (1, 2) if rng.random() > 0.03]
        rows = []
        for e in epcs:
            home = where[e]
            if home is None:
                continue
            for port, prob, loss in ((home, p, 0.0), (3 - home, p * cross, 8.0)):
                hits = sum(rng.random() < prob for _ in range(ROUNDS))
                if hits and port in ants:
                    dbm = float(np.float32(-55.0 - loss + rng.gauss(0.0, 2.0)))
                    rows.append((t0 + rng.randrange(1000), e, port, dbm, hits))
        rows.sort()
        out.append(
            (
                t0,
                ants,
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
                [r[0] for r in rows],
                [r[4] for r in rows],
            )
        )
    return out


def _feed(tracker: TagTracker, steps: list[Batch | int]) -> list[TagMovement]:
    out: list[TagMovement] = []
    for step in steps:
        if isinstance(step, int):
            tracker.device_offline("r1", step)
            continue
        t0, ants, epc, ant, rssi, ts, n = step
        out += tracker.observe("r1", t0, t0 + 1000, ants, epc, ant, rssi, ts, n)
        out += tracker.expire(t0 + 1000)
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.floats(0.3, 0.95),
    cross=st.floats(0.0, 0.3),
    cut=st.integers(1, 399),
)
def test_a_restored_snapshot_continues_exactly_like_the_original(
    seed: int, p: float, cross: float, cut: int
) -> None:
    steps = _story(seed, p, cross, 400)
    cut = min(cut, len(steps) - 1)
    original = TagTracker(TrackerConfig(), ANTENNAS)
    _feed(original, steps[:cut])
    snap = json.loads(json.dumps(original.snapshot()))
    restored = TagTracker.restore(TrackerConfig(), ANTENNAS, snap)
    assert restored.snapshot() == snap
    assert _feed(restored, steps[cut:]) == _feed(original, steps[cut:])
    assert restored.snapshot() == original.snapshot()
