"""firmware_sim's RFID channel reduced to one cause of silence, for the window models' tests."""

from __future__ import annotations

from firmware_sim.devices.rfid_reader import ReaderDevice


def fades_only_reader(seed: int, fade_rate_per_h: float, p: float = 0.6) -> ReaderDevice:
    """One antenna ("s"), 10 rounds/s, every tag read with probability `p` but in its deep
    fades (0.3 s mean): no cross-reads, no occlusions."""
    return ReaderDevice(
        device_id="r",
        antennas={1: "s"},
        seed=seed,
        rounds_per_s=10.0,
        read_prob=(p, p),
        cross_read_rate=0.0,
        burst_fade_rate_per_h=0.0,
        tag_fade_rate_per_h=fade_rate_per_h,
        tag_fade_mean_s=0.3,
    )
