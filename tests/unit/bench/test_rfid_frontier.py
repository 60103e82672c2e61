"""The trade-off model of bench/rfid_frontier.py: departures decided only at batch ends."""

from __future__ import annotations

import math

import pytest
from support.benches import load_bench
from support.rfid_channel import fades_only_reader

from ingest.rfid_types import TrackerConfig

FADES_PER_H = 100.0  # 25 times the default, so that 50 tag-hours hold enough long silences


def _declared(n_tags: int, seconds: int, window: int, batch: int) -> int:
    """Silent runs of firmware_sim's channel (deep fades only, one round per 100 ms frame) still
    silent at a batch end (every `batch` rounds) `window` or more rounds after the last read."""
    reader = fades_only_reader(5, FADES_PER_H)
    shelf = {f"T{i:04d}": "s" for i in range(n_tags)}
    t0 = 1_763_719_200_000
    last_round: dict[str, int] = {}
    declared = 0
    for k in range(seconds * 10):
        frame = reader.frame(t0 + k * 100, t0 + (k + 1) * 100, shelf)
        assert frame is not None
        for epc in frame.epc:
            if epc in last_round:
                # the first batch end at least `window` silent rounds after the last read
                first_end = math.ceil((last_round[epc] + 1 + window) / batch) * batch
                declared += first_end <= k  # ... came before this read
            last_round[epc] = k
    return declared


@pytest.mark.slow
@pytest.mark.parametrize(("window", "batch"), [(12, 5), (12, 1)])
def test_declared_silences_match_the_simulated_channel(window: int, batch: int) -> None:
    frontier = load_bench("rfid_frontier")
    n_tags, seconds = 500, 360
    hours = n_tags * seconds / 3600.0
    channel = TrackerConfig(fade_rate_per_h=FADES_PER_H)
    seen = _declared(n_tags, seconds, window, batch)
    expected = frontier.declared_runs_per_h(window, batch, 0.6, 10.0, channel) * hours
    assert abs(seen - expected) <= 4.0 * math.sqrt(expected) + 0.05 * expected
    if batch > 1:  # the grid hides runs that end before a batch end comes
        every_round = frontier.declared_runs_per_h(window, 1, 0.6, 10.0, channel) * hours
        assert seen < 0.7 * every_round


def test_the_frontier_shows_what_shorter_batches_buy() -> None:
    frontier = load_bench("rfid_frontier")
    rows = frontier.main(["--batch-ms", "100,500", "--p", "0.6"])
    (b100, _, p95_100, false_100, w3_100, f3_100), (b500, _, p95_500, false_500, w3_500, f3_500) = (
        rows
    )
    assert (b100, b500) == (100, 500)
    # the default window is the same; the batch adds its wait to the latency
    assert p95_500 - p95_100 == pytest.approx(0.38)
    assert false_500 < false_100  # ... and hides the silences that end before a batch end
    # the window that keeps p95 at 3 s is shorter with longer batches, and costs more
    assert w3_100 == pytest.approx(2.905) and w3_500 == pytest.approx(2.525)
    assert f3_500 > 2 * f3_100 > 0.0
