"""Cold-chain tracking: out-of-range runs per location, in event time, through snapshots."""

from __future__ import annotations

import json

from ingest.coldchain import ColdChain, LocationTemp, TempRange

COOLER = "floor/cooler-1"
MIN_MS = 60_000


def _chain() -> ColdChain:
    return ColdChain({COOLER: TempRange(0.0, 5.0, 600)})


def _minutes(*temps: float, start: int = 0) -> list[tuple[int, float]]:
    return [((start + i) * MIN_MS, t) for i, t in enumerate(temps)]


def test_inside_the_range_there_is_no_run() -> None:
    chain = _chain()
    chain.feed(COOLER, _minutes(3.0, 4.0, 5.0))
    assert chain.states()[COOLER] == LocationTemp(2 * MIN_MS, 5.0)


def test_a_run_starts_at_the_first_reading_outside_and_keeps_its_extremes() -> None:
    chain = _chain()
    chain.feed(COOLER, _minutes(4.0, 6.0, 9.5, 8.0))
    state = chain.states()[COOLER]
    assert state.out_since_ms == MIN_MS
    assert (state.min_c, state.max_c) == (6.0, 9.5)
    assert state.out_for_ms() == 2 * MIN_MS


def test_back_inside_ends_the_run() -> None:
    chain = _chain()
    chain.feed(COOLER, _minutes(6.0, 7.0, 4.9))
    assert chain.states()[COOLER].out_since_ms is None


def test_older_readings_are_ignored_and_unranged_locations_untracked() -> None:
    chain = _chain()
    chain.feed(COOLER, _minutes(7.0, start=10))
    chain.feed(COOLER, _minutes(3.0, start=5))  # a lagging probe
    chain.feed("floor/aisle-1", _minutes(30.0))
    assert chain.states()[COOLER].out_since_ms == 10 * MIN_MS
    assert set(chain.states()) == {COOLER}


def test_snapshot_round_trip_through_json() -> None:
    chain = _chain()
    chain.feed(COOLER, _minutes(6.0, 7.0))
    again = _chain()
    again.restore(json.loads(json.dumps(chain.snapshot())))
    assert again.states() == chain.states()
    again.feed(COOLER, _minutes(8.0, start=2))
    chain.feed(COOLER, _minutes(8.0, start=2))
    assert again.states() == chain.states()
