"""Properties of the debouncer under random read patterns (hypothesis draws p, seeds, timings).

Reads are Bernoulli per inventory round (4 rounds per 1 s batch), RSSI fades N(0, 2 dB), and the
neighbour shelf cross-reads the tag at a lower RSSI. A tag that never moves must produce exactly one
arrival; a tag moved once must produce exactly one arrival and one move, to the right shelf.
"""

from __future__ import annotations

import random

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
