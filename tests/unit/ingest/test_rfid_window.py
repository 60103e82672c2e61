"""The departure window: independent misses and deep fades, against the simulated channel."""

from __future__ import annotations

import dataclasses
import math

import pytest
from support.rfid_channel import fades_only_reader

from ingest.rfid_types import TrackerConfig
from ingest.rfid_window import silent_runs_per_h, window_rounds

NO_FADES = TrackerConfig(fade_rate_per_h=0.0)


def _independent(p: float, r_per_s: float, cfg: TrackerConfig) -> float:
    w = math.log(3600.0 * r_per_s * p / cfg.false_departure_delta) / -math.log1p(-p)
    lo, hi = cfg.min_window_ms * r_per_s / 1000.0, cfg.max_window_ms * r_per_s / 1000.0
    return min(hi, max(lo, w))


@pytest.mark.parametrize("p", [0.05, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("r_per_s", [4.0, 10.0])
def test_without_fades_the_window_is_the_independent_miss_bound(p: float, r_per_s: float) -> None:
    assert window_rounds(p, r_per_s, NO_FADES) == pytest.approx(_independent(p, r_per_s, NO_FADES))


@pytest.mark.parametrize("p", [0.45, 0.55, 0.6, 0.7, 0.8])
def test_the_window_is_the_shortest_that_keeps_unread_runs_below_delta(p: float) -> None:
    cfg = TrackerConfig()
    w = window_rounds(p, 10.0, cfg)

    def rate(x: float) -> float:
        return silent_runs_per_h(
            x, p, 10.0, cfg.fade_rate_per_h, cfg.fade_mean_ms, cfg.fade_read_factor
        )

    assert w > _independent(p, 10.0, cfg)  # fades decide it here
    assert rate(w) <= cfg.false_departure_delta * 1.001
    assert rate(w - 0.05) > cfg.false_departure_delta


def test_fades_lengthen_the_window_only_where_reads_are_frequent() -> None:
    cfg = TrackerConfig()
    # p = 0.3: misses alone need ~52 rounds, far longer than a deep fade lasts
    assert window_rounds(0.3, 10.0, cfg) == pytest.approx(_independent(0.3, 10.0, cfg), abs=0.5)
    # p = 0.6: misses alone need 21 rounds (clamped to 2.5 s); a 0.3 s-mean fade needs ~3 s
    assert _independent(0.6, 10.0, cfg) == 25.0
    assert window_rounds(0.6, 10.0, cfg) >= 29.0
    # lowering p never shortens the window below the independent-miss bound
    for p in (0.2, 0.4, 0.6, 0.8):
        assert window_rounds(p, 10.0, cfg) >= _independent(p, 10.0, cfg)


def test_a_config_rejects_a_bad_fade_model() -> None:
    from ingest.rfid_types import RfidConfigError

    for bad in ({"fade_rate_per_h": -1.0}, {"fade_mean_ms": 0}, {"fade_read_factor": 1.0}):
        with pytest.raises(RfidConfigError):
            dataclasses.replace(TrackerConfig(), **bad)


def _unread_runs(n_tags: int, seconds: int, fade_rate_per_h: float, widths: list[int]) -> list[int]:
    """Runs of at least each width of unread rounds, counted in firmware_sim's channel (one
    round per 100 ms batch, so every read is seen) with deep fades only."""
    reader = fades_only_reader(3, fade_rate_per_h)
    tags = {f"T{i:04d}": "s" for i in range(n_tags)}
    last: dict[str, int] = {}
    counts = [0] * len(widths)
    t0 = 1_763_719_200_000
    for k in range(seconds * 10):
        frame = reader.frame(t0 + k * 100, t0 + (k + 1) * 100, tags)
        assert frame is not None
        for epc, ts in zip(frame.epc, frame.ts, strict=True):
            if epc in last:
                unread = round((ts - last[epc]) / 100.0) - 1
                for i, width in enumerate(widths):
                    counts[i] += unread >= width
            last[epc] = ts
    return counts


def test_unread_runs_match_the_simulated_channel() -> None:
    """The Gilbert-Elliott rate predicts the simulator's runs of misses (fades 25 times as
    frequent as the default so that 50 tag-hours hold enough of them); the independent-miss
    model alone misses them by a factor of 30."""
    n_tags, seconds, fades = 500, 360, 100.0
    hours = n_tags * seconds / 3600.0
    widths = [10, 15]
    seen = _unread_runs(n_tags, seconds, fades, widths)
    for width, count in zip(widths, seen, strict=True):
        expected = silent_runs_per_h(width, 0.6, 10.0, fades, 300, 0.1) * hours
        assert abs(count - expected) <= 4.0 * math.sqrt(expected) + 0.05 * expected
        independent = silent_runs_per_h(width, 0.6, 10.0, 0.0, 300, 0.1) * hours
        if width == 15:
            assert count > 30 * independent
