"""A shelf occluded for seconds: a tag it silences past its window stays; a tag taken leaves."""

from __future__ import annotations

import random

import pytest

from ingest import rfid_shadow
from ingest.rfid import AntennaSpec, TagMoveKind, TagMovement, TagTracker, TrackerConfig
from ingest.rfid_state import Loc, degradation

T0 = 1_763_719_200_000
SHELF = "aisle/shelf-1"
TAGS = [f"3034257BF7194E40000{i:05X}" for i in range(5)]
VICTIM, TAKEN = TAGS[0], TAGS[1]


def _shelf(
    occluded_s: tuple[float, float], silent: dict[str, tuple[float, float]], seconds: int
) -> list[TagMovement]:
    """Five tags at p = 0.28 on one antenna (10 rounds/s, 500 ms batches); while occluded every
    tag is read at 35 % of that; a tag in `silent` is not read in its interval (it fades deep,
    or it was taken: then the interval runs to the end)."""
    rng = random.Random(11)
    tracker = TagTracker(TrackerConfig(rounds_per_s=10.0), [AntennaSpec("r1", 1, SHELF)])
    out: list[TagMovement] = []
    for k in range(seconds * 2):
        t0 = T0 + k * 500
        epc, ts, n = [], [], []
        for tag in TAGS:
            last, count = 0, 0
            for r in range(5):
                at_s = (k * 500 + r * 100 + 50) / 1000.0
                lo, hi = silent.get(tag, (-1.0, -1.0))
                if lo <= at_s < hi:
                    continue
                p = 0.28 * (0.35 if occluded_s[0] <= at_s < occluded_s[1] else 1.0)
                if rng.random() < p:
                    last, count = t0 + r * 100 + 50, count + 1
            if count:
                epc.append(tag)
                ts.append(last)
                n.append(count)
        out += tracker.observe(
            "r1", t0, t0 + 500, [1], epc, [1] * len(epc), [-50.0] * len(epc), ts, n
        )
        out += tracker.expire(t0 + 500)
    return out


def _after_arrivals(out: list[TagMovement]) -> list[tuple[TagMoveKind, str]]:
    return [(m.kind, m.epc) for m in out if m.ts_ms > T0 + 30_000]


def test_a_tag_an_occlusion_silences_past_its_window_does_not_depart() -> None:
    # occluded 300-312 s; the victim is unread 300.5-306.5 s (60 rounds: its window is ~52)
    out = _shelf((300.0, 312.0), {VICTIM: (300.5, 306.5)}, 360)
    assert [m.kind for m in out[:5]] == [TagMoveKind.ARRIVE] * 5
    assert _after_arrivals(out) == []


def test_without_the_check_over_its_silence_the_same_tag_departs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The story above can fail: the per-batch shadow test alone lets the victim go."""
    monkeypatch.setattr(rfid_shadow, "silence_rounds", lambda loc, tag, p, missed: missed)
    out = _shelf((300.0, 312.0), {VICTIM: (300.5, 306.5)}, 360)
    assert (TagMoveKind.DEPART, VICTIM) in _after_arrivals(out)


def test_a_tag_taken_from_a_shelf_that_is_read_as_usual_departs_on_its_window() -> None:
    out = _shelf((0.0, 0.0), {TAKEN: (300.5, 10_000.0)}, 360)
    departures = [m for m in out if m.kind is TagMoveKind.DEPART]
    assert [m.epc for m in departures] == [TAKEN]
    assert departures[0].evidence["detected_ms"] <= T0 + 300_500 + 7_000  # type: ignore[operator]


def test_a_tag_taken_during_an_occlusion_departs_once_its_silence_outweighs_it() -> None:
    out = _shelf((300.0, 312.0), {TAKEN: (300.5, 10_000.0)}, 360)
    departures = [m for m in out if m.kind is TagMoveKind.DEPART]
    assert [m.epc for m in departures] == [TAKEN]
    assert departures[0].evidence["detected_ms"] <= T0 + 340_000  # type: ignore[operator]


NEXT = "aisle/shelf-2"


def _occluded_home(shade: bool) -> list[TagMovement]:
    """Five tags on shelf-1 read twice a batch (500 ms, 10 rounds/s); the first, near the edge,
    twice at home at -46 dBm and once next door at -45 (as loud: the antennas differ). From
    120 s to 150 s someone stands in front of shelf-1 (`shade`): its tags are read a third as
    often, the first one once every 3 s; next door is not shaded and goes on cross-reading it."""
    specs = [AntennaSpec("r1", 1, SHELF), AntennaSpec("r1", 2, NEXT)]
    tracker = TagTracker(TrackerConfig(rounds_per_s=10.0), specs)
    out: list[TagMovement] = []
    for k in range(2 * 240):
        t0 = T0 + k * 500
        shaded = shade and 240 <= k < 300
        rows: list[tuple[str, int, float, int]] = []
        for tag in TAGS:
            if tag == VICTIM and shaded:
                n = 1 if k % 6 == 0 else 0
            else:
                n = 2 if not shaded or k % 3 == 0 else 0
            if n:
                rows.append((tag, 1, -46.0 if tag == VICTIM else -50.0, n))
        rows.append((VICTIM, 2, -45.0, 1))
        epc, ant, rssi, n_col = (list(c) for c in zip(*rows, strict=True))
        ts = [t0 + 450] * len(epc)
        out += tracker.observe("r1", t0, t0 + 500, [1, 2], epc, ant, rssi, ts, n_col)
        out += tracker.expire(t0 + 500)
    return out


def test_a_shelf_read_as_usual_keeps_a_tag_its_neighbour_cross_reads_as_loud() -> None:
    out = _occluded_home(shade=False)
    assert [(m.kind, m.to_location) for m in out] == [(TagMoveKind.ARRIVE, SHELF)] * 5


def test_an_occlusion_at_home_does_not_move_a_tag_to_the_neighbour_that_cross_reads_it() -> None:
    out = _occluded_home(shade=True)
    assert [(m.kind, m.to_location) for m in out] == [(TagMoveKind.ARRIVE, SHELF)] * 5


def test_without_the_shadow_rule_the_same_tag_moves_next_door(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The story above can fail: home's count falls, its cross-reads next door do not."""

    def unshaded(loc: Loc, rounds: float) -> float:
        factor = degradation(loc, rounds)
        loc.shadowed = loc.doubtful = False
        return factor

    monkeypatch.setattr("ingest.rfid.degradation", unshaded)
    assert (TagMoveKind.MOVE, VICTIM) in _after_arrivals(_occluded_home(shade=True))


def _leaving_in_turn() -> list[TagMovement]:
    """Twelve tags read in every round (4 rounds/s, 1 s batches) leave one a second, from 60 s."""
    tags = [f"3034257BF7194E40002{i:05X}" for i in range(12)]
    tracker = TagTracker(TrackerConfig(), [AntennaSpec("r1", 1, SHELF)])
    out: list[TagMovement] = []
    for k in range(120):
        t0 = T0 + k * 1000
        here = [e for i, e in enumerate(tags) if k < 60 + i]
        n = len(here)
        out += tracker.observe(
            "r1", t0, t0 + 1000, [1], here, [1] * n, [-50.0] * n, [t0 + 500] * n, [4] * n
        )
        out += tracker.expire(t0 + 1000)
    return out


def test_tags_leaving_one_after_another_all_depart_on_their_windows() -> None:
    """At p ~ 1 a tag unread for two batches has left: several leaving in turn are no shadow
    (counting them as active tags held every departure, and so kept them counted)."""
    departures = [m for m in _leaving_in_turn() if m.kind is TagMoveKind.DEPART]
    assert len(departures) == 12
    for i, m in enumerate(sorted(departures, key=lambda m: m.ts_ms)):
        left_ms = T0 + (60 + i) * 1000
        assert m.evidence["detected_ms"] <= left_ms + 5_000  # type: ignore[operator]


def test_counting_silent_tags_as_active_held_those_departures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ingest.rfid_state._active_rounds", lambda rate: 20.0)
    departures = [m for m in _leaving_in_turn() if m.kind is TagMoveKind.DEPART]
    late = [
        m
        for i, m in enumerate(sorted(departures, key=lambda m: m.ts_ms))
        if m.evidence["detected_ms"] > T0 + (60 + i) * 1000 + 5_000  # type: ignore[operator]
    ]
    assert len(departures) < 12 or late
