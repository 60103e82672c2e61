"""Tuning of the weight tracker: one frozen, validated ``ScaleConfig`` per scale. PURE.

Grams, milliseconds and seconds are in the names. The defaults suit shelf scales of 0.5 to 2 g
noise at 10 to 80 Hz carrying items of 20 g and more; only ``unit_weight_g`` and ``tare_g`` come
from the site file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ingest.weight_count import CountRule
from ingest.weight_noise import NoiseTuning
from ingest.weight_signal import chi2_ratio_quantile

__all__ = ["Geometry", "ScaleConfig", "geometry"]

_TRACK_MS = 1000  # zero tracking follows the level once a second, however long the batch


@dataclass(frozen=True, slots=True)
class ScaleConfig:
    unit_weight_g: float
    tare_g: float
    unit_cv: float = 0.02  # expected item-to-item spread (std / mean)
    noise_hint_g: float = 1.0  # noise std assumed until the online estimate has learned it
    min_noise_g: float = 0.05  # floor of the noise estimate (a quantised, quiet converter)
    noise_trust_z: float = 2.0  # thresholds use the noise estimate's upper bound at this z
    noise_window_s: float = 60.0  # memory of the online noise estimate
    relearn_after_ms: int = 15_000  # a motion this long re-learns the noise from its quietest part
    smooth_ms: int = 100  # moving mean before the motion band
    stable_hold_ms: int = 700  # the band must hold this long (as weighing indicators do)
    min_hold_samples: int = 10  # ... and over at least this many samples
    band_sigmas: float = 6.0  # motion band, in stds of the smoothed signal
    still_var_z: float = 2.5  # a still window's variance passes a chi-square test at this z
    min_band_g: float = 0.2
    max_band_units: float = 0.4  # the band never exceeds this fraction of a unit
    track_g_per_s: float = 0.1  # zero tracking: the most the stable level may follow per second
    settle_bias_band: float = 0.1  # level error from residual settling, as a fraction of the band
    ambiguous_sigmas: float = 4.0
    max_residual_units: float = 0.3
    change_sigmas: float = 6.0  # a sub-unit change beyond this many level stds is reported
    min_change_g: float = 5.0  # ... if it is also at least this heavy
    gap_drift_g_per_h: float = 20.0  # drift allowed when comparing levels across a gap

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"ScaleConfig.{f.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"ScaleConfig.{f.name} must be finite, got {value!r}")
        positive = (
            "unit_weight_g",
            "noise_hint_g",
            "min_noise_g",
            "noise_window_s",
            "smooth_ms",
            "stable_hold_ms",
            "band_sigmas",
            "min_band_g",
            "ambiguous_sigmas",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"ScaleConfig.{name} must be > 0, got {getattr(self, name)!r}")
        for name in (
            "unit_cv",
            "relearn_after_ms",
            "track_g_per_s",
            "settle_bias_band",
            "change_sigmas",
            "min_change_g",
            "gap_drift_g_per_h",
            "noise_trust_z",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"ScaleConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.min_hold_samples < 2:
            raise ValueError("ScaleConfig.min_hold_samples must be >= 2")
        if not 0 < self.max_band_units <= 0.5 or not 0 < self.max_residual_units <= 0.5:
            raise ValueError(
                "ScaleConfig.max_band_units and max_residual_units must be in (0, 0.5]"
            )

    def count_rule(self) -> CountRule:
        return CountRule(
            unit_weight_g=self.unit_weight_g,
            unit_cv=self.unit_cv,
            ambiguous_sigmas=self.ambiguous_sigmas,
            max_residual_units=self.max_residual_units,
            change_sigmas=self.change_sigmas,
            min_change_g=self.min_change_g,
        )

    def noise_tuning(self) -> NoiseTuning:
        return NoiseTuning(
            hint_g=self.noise_hint_g,
            min_g=self.min_noise_g,
            window_s=self.noise_window_s,
            trust_z=self.noise_trust_z,
        )

    def level_var_g2(self, noise_var_g2: float, hold: int, band_g: float) -> float:
        """Variance (g^2) of a stable-to-stable change: two window means plus settling bias."""
        return 2.0 * noise_var_g2 / hold + (self.settle_bias_band * band_g) ** 2


@dataclass(frozen=True, slots=True)
class Geometry:
    """Sample counts of a config at one rate."""

    dt_ms: float
    m: int  # smoothing width
    hold: int  # stable window
    keep: int  # tail kept between batches
    track_n: int  # zero tracking steps on this grid of absolute sample indices
    var_ratio: float  # a still window's variance is at most this many noise variances


def geometry(cfg: ScaleConfig, hz: float) -> Geometry:
    m = max(1, round(cfg.smooth_ms * hz / 1000.0))
    hold = max(cfg.min_hold_samples, round(cfg.stable_hold_ms * hz / 1000.0))
    return Geometry(
        dt_ms=1000.0 / hz,
        m=m,
        hold=hold,
        keep=hold + m,
        track_n=max(1, round(_TRACK_MS * hz / 1000.0)),
        var_ratio=chi2_ratio_quantile(hold - 1, cfg.still_var_z),
    )
