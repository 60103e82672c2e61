"""PURE simulated RFID reader and RF channel (numpy, seeded): true tag positions in, batches out.

The reader runs `rounds_per_s` inventory rounds per second on every antenna. In each round a tag
in an antenna's field answers with its own read probability p (drawn per tag in `read_prob`),
multiplied down by the channel's impairments:

- bursty fades: per antenna, occlusions (a person or trolley in front of the shelf, rate
  `burst_fade_rate_per_h`, exponential length `burst_fade_mean_s`, p x `burst_fade_factor`) and per
  tag short deep fades (Gilbert-Elliott, `tag_fade_rate_per_h`, `tag_fade_mean_s`, p x 0.1);
- cross-reads: a tag is also heard by the antennas of adjacent locations (`adjacency`), per round
  with probability p * cross_read_rate * u (u ~ U(0.5, 1.5) per tag), at an RSSI lower by a per-tag
  margin in `cross_margin_db`;
- RSSI: `rssi_ref_dbm` + per-tag offset N(0, tag_rssi_sigma_db) + per-read fading
  N(0, rssi_sigma_db);
- outages: the whole reader (`outage_rate_per_h`, `outage_mean_s`: `frame` returns None, no batch)
  and single antennas (`antenna_fail_rate_per_h`: the port is missing from `ants`, no reads).

A batch row carries the peak RSSI, the time of the last round that read the tag (`ts`) and the
number of rounds that read it (`n`), as the contract says. Location keys of portal sides are
"LOCATION#inside" / "LOCATION#outside". Same seed and same calls give the same frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ReaderFrame:
    """One contract RFID batch in columnar form, covering [t0_ms, t1_ms)."""

    t0_ms: int
    t1_ms: int
    ants: list[int]
    epc: list[str]
    ant: list[int]
    rssi: list[float]
    ts: list[int]
    n: list[int]


@dataclass(frozen=True, slots=True)
class _Episodes:
    """Poisson-started episodes with exponential lengths, per item (ports, tags or the device).

    An episode starts at any moment of a batch, not at its start, so what a fade or an occlusion
    does to the reads does not depend on how the gateway cuts time into batches."""

    rate_per_ms: float
    mean_ms: float

    def step(
        self,
        since: FloatArray,
        until: FloatArray,
        t0_ms: int,
        dur_ms: int,
        rng: np.random.Generator,
    ) -> None:
        if self.rate_per_ms <= 0.0:
            return
        idle = until <= t0_ms
        start = idle & (rng.random(until.shape) < -math.expm1(-self.rate_per_ms * dur_ms))
        k = int(start.sum())
        if k:
            begin = t0_ms + rng.random(k) * dur_ms
            since[start] = begin
            until[start] = begin + rng.exponential(self.mean_ms, k)


@dataclass(frozen=True, slots=True)
class Stay:
    """A tag at location `key` for part of a batch: the rounds in [from_ms, until_ms)."""

    epc: str
    key: str
    from_ms: float
    until_ms: float


def _there(n_whole: int, part: Sequence[Stay], at_ms: FloatArray) -> FloatArray:
    """(rows x rounds) 1.0 where the row's tag is there: `n_whole` whole-batch rows, then the
    stays' rows."""
    lo = np.concatenate([np.full(n_whole, -np.inf), [s.from_ms for s in part]])
    hi = np.concatenate([np.full(n_whole, np.inf), [s.until_ms for s in part]])
    there = (lo[:, None] <= at_ms[None, :]) & (at_ms[None, :] < hi[:, None])
    return there.astype(np.float64)


def _merged(frame: ReaderFrame) -> ReaderFrame:
    """One row per (epc, antenna), as a reader reports: a tag moved within a batch between two
    antennas of one reader is read on the second both as a cross-read and at home (n summed,
    the peak RSSI, the latest ts)."""
    rows: dict[tuple[str, int], int] = {}
    epc: list[str] = []
    ant: list[int] = []
    rssi: list[float] = []
    ts: list[int] = []
    n: list[int] = []
    for e, a, r, t, k in zip(frame.epc, frame.ant, frame.rssi, frame.ts, frame.n, strict=True):
        i = rows.get((e, a))
        if i is None:
            rows[(e, a)] = len(epc)
            epc.append(e)
            ant.append(a)
            rssi.append(r)
            ts.append(t)
            n.append(k)
        else:
            rssi[i], ts[i], n[i] = max(rssi[i], r), max(ts[i], t), n[i] + k
    return ReaderFrame(frame.t0_ms, frame.t1_ms, frame.ants, epc, ant, rssi, ts, n)


def _active(since: FloatArray, until: FloatArray, at_ms: FloatArray) -> npt.NDArray[np.bool_]:
    """(items x times): is each item's episode running at each time."""
    return (since[:, None] <= at_ms[None, :]) & (at_ms[None, :] < until[:, None])


class ReaderDevice:
    """A reader with antennas on locations; call `frame` once per batch interval, in time order."""

    def __init__(
        self,
        *,
        device_id: str,
        antennas: Mapping[int, str],
        seed: int,
        rounds_per_s: float = 4.0,
        read_prob: tuple[float, float] = (0.3, 0.95),
        cross_read_rate: float = 0.1,
        adjacency: Mapping[str, Sequence[str]] | None = None,
        burst_fade_rate_per_h: float = 4.0,
        burst_fade_mean_s: float = 8.0,
        burst_fade_factor: float = 0.4,
        tag_fade_rate_per_h: float = 4.0,
        tag_fade_mean_s: float = 0.3,
        outage_rate_per_h: float = 0.0,
        outage_mean_s: float = 60.0,
        antenna_fail_rate_per_h: float = 0.0,
        antenna_fail_mean_s: float = 45.0,
        cross_margin_db: tuple[float, float] = (3.0, 12.0),
        rssi_ref_dbm: float = -55.0,
        rssi_sigma_db: float = 2.0,
        tag_rssi_sigma_db: float = 4.0,
    ) -> None:
        if not 0.0 < read_prob[0] <= read_prob[1] <= 1.0:
            raise ValueError("read_prob must satisfy 0 < lo <= hi <= 1")
        if rounds_per_s <= 0 or not 0.0 <= cross_read_rate <= 1.0:
            raise ValueError("rounds_per_s must be > 0 and cross_read_rate in [0, 1]")
        self.device_id = device_id
        self._rng = np.random.default_rng(seed)
        self._rounds_per_s = rounds_per_s
        self._phase_ms = float(self._rng.uniform(0.0, 1000.0 / rounds_per_s))
        self._read_prob = read_prob
        self._cross = cross_read_rate
        self._margin = cross_margin_db
        self._rssi = (rssi_ref_dbm, rssi_sigma_db, tag_rssi_sigma_db)
        self._fade_factor = burst_fade_factor
        self._ports = sorted(antennas)
        self._port_of_key: dict[str, int] = {}
        for port in self._ports:
            self._port_of_key.setdefault(antennas[port], port)
        self._slot_of_port = {p: i for i, p in enumerate(self._ports)}
        self._adj_ports = self._adjacent_ports(antennas, adjacency or {})
        h_ms = 3_600_000.0
        self._occlusion = _Episodes(burst_fade_rate_per_h / h_ms, burst_fade_mean_s * 1000.0)
        self._tag_fade = _Episodes(tag_fade_rate_per_h / h_ms, tag_fade_mean_s * 1000.0)
        self._outage = _Episodes(outage_rate_per_h / h_ms, outage_mean_s * 1000.0)
        self._ant_fail = _Episodes(antenna_fail_rate_per_h / h_ms, antenna_fail_mean_s * 1000.0)
        self._occluded = (np.zeros(len(self._ports)), np.zeros(len(self._ports)))
        self._failed = (np.zeros(len(self._ports)), np.zeros(len(self._ports)))
        self._down = (np.zeros(1), np.zeros(1))
        self._tag_index: dict[str, int] = {}
        self._tag_epc: list[str] = []
        self._p = np.zeros(0)
        self._offset = np.zeros(0)
        self._tag_margin = np.zeros(0)
        self._tag_cross = np.zeros(0)
        self._faded = (np.zeros(0), np.zeros(0))

    def _adjacent_ports(
        self, antennas: Mapping[int, str], adjacency: Mapping[str, Sequence[str]]
    ) -> dict[str, tuple[int, ...]]:
        """For each watched key: the ports of this reader watching an adjacent key."""
        out: dict[str, tuple[int, ...]] = {}
        for key, port in self._port_of_key.items():
            ports = {self._port_of_key[a] for a in adjacency.get(key, ()) if a in self._port_of_key}
            ports.discard(port)
            out[key] = tuple(sorted(ports))
        return out

    @property
    def watched(self) -> frozenset[str]:
        """The location keys this reader's antennas watch."""
        return frozenset(self._port_of_key)

    def knows(self, epc: str) -> bool:
        """Has this reader's field ever held the tag (its read probability is drawn)?"""
        return epc in self._tag_index

    def read_probability(self, epc: str) -> float:
        """The tag's base read probability per round (drawn on first sight)."""
        return float(self._p[self._indices([epc])[0]])

    # ------------------------------------------------------------------ tags
    def _indices(self, epcs: Sequence[str]) -> IntArray:
        index = self._tag_index
        new = list(dict.fromkeys(e for e in epcs if e not in index))
        if new:
            self._add_tags(new)
        return np.fromiter((index[e] for e in epcs), dtype=np.int64, count=len(epcs))

    def _add_tags(self, epcs: list[str]) -> None:
        k, rng = len(epcs), self._rng
        for e in epcs:
            self._tag_index[e] = len(self._tag_epc)
            self._tag_epc.append(e)
        lo, hi = self._read_prob
        self._p = np.concatenate([self._p, rng.uniform(lo, hi, k)])
        self._offset = np.concatenate([self._offset, rng.normal(0.0, self._rssi[2], k)])
        self._tag_margin = np.concatenate([self._tag_margin, rng.uniform(*self._margin, k)])
        self._tag_cross = np.concatenate([self._tag_cross, rng.uniform(0.5, 1.5, k)])
        since, until = self._faded
        self._faded = (np.concatenate([since, np.zeros(k)]), np.concatenate([until, np.zeros(k)]))

    # ------------------------------------------------------------------ frames
    def frame(
        self,
        t0_ms: int,
        t1_ms: int,
        tags_at: Mapping[str, str],
        stays: Sequence[Stay] = (),
    ) -> ReaderFrame | None:
        """The batch for [t0_ms, t1_ms) given where each tag is; None while the reader is down.

        `tags_at`: tags there all through the batch; `stays`: tags there for part of it (put
        down or taken away during it: only the rounds of their stay can read them). Reads are
        drawn round by round (fades and occlusions are evaluated at each round's time), so the
        same channel gives the same reads whatever the batch length."""
        if t1_ms <= t0_ms:
            raise ValueError("t1_ms must be after t0_ms")
        dur = t1_ms - t0_ms
        rng = self._rng
        self._outage.step(*self._down, t0_ms, dur, rng)
        if _active(*self._down, np.array([float(t0_ms)]))[0, 0]:
            return None
        self._ant_fail.step(*self._failed, t0_ms, dur, rng)
        self._occlusion.step(*self._occluded, t0_ms, dur, rng)
        live = ~_active(*self._failed, np.array([float(t0_ms)]))[:, 0]
        ants = [p for p, ok in zip(self._ports, live, strict=True) if ok]
        port_of = self._port_of_key
        seen = [(e, k) for e, k in tags_at.items() if k in port_of]
        part = [s for s in stays if s.key in port_of and s.from_ms < s.until_ms]
        if not seen and not part:
            return ReaderFrame(t0_ms, t1_ms, ants, [], [], [], [], [])
        idx = self._indices([e for e, _ in seen] + [s.epc for s in part])
        self._tag_fade.step(*self._faded, t0_ms, dur, rng)
        at_ms = self._round_times(t0_ms, t1_ms)
        rounds = at_ms.size
        if rounds == 0:
            return ReaderFrame(t0_ms, t1_ms, ants, [], [], [], [], [])
        keys = [k for _, k in seen] + [s.key for s in part]
        slots = np.fromiter((self._slot_of_port[port_of[k]] for k in keys), np.int64, len(keys))
        faded = _active(self._faded[0][idx], self._faded[1][idx], at_ms)
        p_tag: FloatArray = self._p[idx][:, None] * np.where(faded, 0.1, 1.0)
        if part:
            p_tag = p_tag * _there(len(seen), part, at_ms)
        p_eff = p_tag * self._occlusion_factor(slots, at_ms)
        primary = self._reads(idx, slots, p_eff, np.zeros(len(idx)), live)
        cross = self._cross_reads(idx, keys, p_tag, live, at_ms)
        frame = self._assemble(t0_ms, t1_ms, ants, at_ms, primary, cross)
        return _merged(frame) if part else frame

    def _round_times(self, t0_ms: int, t1_ms: int) -> FloatArray:
        """Times of the inventory rounds in [t0_ms, t1_ms): a steady cadence with its own phase,
        so consecutive batches share the rounds out as a real reader's reports do."""
        step = 1000.0 / self._rounds_per_s
        first = math.ceil((t0_ms - self._phase_ms) / step)
        last = math.ceil((t1_ms - self._phase_ms) / step)
        times: FloatArray = self._phase_ms + np.arange(first, last, dtype=np.float64) * step
        return times

    def _occlusion_factor(self, slots: IntArray, at_ms: FloatArray) -> FloatArray:
        since, until = self._occluded
        return np.where(_active(since[slots], until[slots], at_ms), self._fade_factor, 1.0)

    def _cross_reads(
        self,
        idx: IntArray,
        keys: list[str],
        p_tag: FloatArray,
        live: npt.NDArray[np.bool_],
        at_ms: FloatArray,
    ) -> tuple[IntArray, IntArray, IntArray, FloatArray, IntArray]:
        """Reads of tags by the antennas of adjacent locations (weaker, rarer)."""
        pairs = [(i, port) for i, k in enumerate(keys) for port in self._adj_ports[k]]
        if not pairs or self._cross <= 0.0:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, np.zeros(0), empty
        rows = np.fromiter((i for i, _ in pairs), np.int64, len(pairs))
        slots = np.fromiter((self._slot_of_port[p] for _, p in pairs), np.int64, len(pairs))
        tag = idx[rows]
        p_x = (
            p_tag[rows]
            * (self._cross * self._tag_cross[tag])[:, None]
            * self._occlusion_factor(slots, at_ms)
        )
        return self._reads(tag, slots, p_x, self._tag_margin[tag], live)

    def _reads(
        self,
        tag: IntArray,
        slots: IntArray,
        p: FloatArray,
        loss_db: FloatArray,
        live: npt.NDArray[np.bool_],
    ) -> tuple[IntArray, IntArray, IntArray, FloatArray, IntArray]:
        """Reads per (tag, antenna slot) from p per (row, round): (tag, slot, n, rssi, last
        round index)."""
        rng = self._rng
        hits = (rng.random(p.shape) < p) & live[slots][:, None]
        n = hits.sum(axis=1)
        hit = n > 0
        tag, slots, n, loss_db, hits = tag[hit], slots[hit], n[hit], loss_db[hit], hits[hit]
        ref, sigma, _ = self._rssi
        fading = rng.normal(0.0, sigma, len(n)) + sigma * np.log(n) * 0.5
        rssi = ref + self._offset[tag] - loss_db + fading
        rounds = hits.shape[1]
        last = rounds - 1 - np.argmax(hits[:, ::-1], axis=1)
        return tag, slots, n.astype(np.int64), rssi, last.astype(np.int64)

    def _assemble(
        self,
        t0_ms: int,
        t1_ms: int,
        ants: list[int],
        at_ms: FloatArray,
        *parts: tuple[IntArray, IntArray, IntArray, FloatArray, IntArray],
    ) -> ReaderFrame:
        tag = np.concatenate([p[0] for p in parts])
        slots = np.concatenate([p[1] for p in parts])
        n = np.concatenate([p[2] for p in parts])
        rssi = np.concatenate([p[3] for p in parts])
        last = np.concatenate([p[4] for p in parts])
        ts = np.clip(at_ms[last].astype(np.int64), t0_ms, t1_ms - 1)
        ports = np.asarray(self._ports, dtype=np.int64)[slots]
        epcs = self._tag_epc
        return ReaderFrame(
            t0_ms,
            t1_ms,
            ants,
            [epcs[i] for i in tag.tolist()],
            ports.tolist(),
            np.round(rssi, 1).tolist(),
            ts.tolist(),
            n.tolist(),
        )
