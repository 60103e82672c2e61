"""PURE: device frames in, contract batches out (no seq: the spool assigns it when it stores).

A ``Batcher`` keeps one open batch per device. Frames of a device extend it while they are
contiguous (``frame.t0 == batch.t1``); the batch closes once it reaches the end of its window of
``batch_ms`` on the epoch grid (``[k * batch_ms, (k + 1) * batch_ms)``), so batches of different
devices line up. Frames are never cut: a frame that straddles a grid line ends the batch at its
own ``t1``. Closing rules, in order:

- a gap (``frame.t0 > batch.t1``) closes the batch at its ``t1``; the gap stays a gap, because
  a device that sent nothing was not observing;
- a frame that overlaps time already batched (``frame.t0 < last t1``) is dropped and counted in
  ``dropped_frames`` (it would contradict batches that may already be published);
- weight: a change of ``hz``, or a frame whose samples would break
  ``len(g) == round((t1 - t0) * hz / 1000)`` for the joined batch, closes the batch first;
- ``flush(device)`` (shutdown) and ``flush_idle(now_ms)`` (a device silent for ``batch_ms`` of
  arrival time) close a partial batch.

RFID reads are merged per (epc, ant): ``n`` summed, ``rssi`` the peak, ``ts`` the last seen; they
go out in the columnar ``cols`` form sorted by ``ts``. Empty RFID batches are emitted like any
other: they are the evidence that nothing is on the antennas. ``ants`` is the union of the frames'
antennas. A batch whose JSON would exceed the contract's 256 KiB is split into consecutive
batches that still tile ``[t0, t1)``: first between frames (exact), then, for a single frame too
large, at read (or reading) ``ts`` boundaries, each part merged on its own. A single weight frame
is never cut. All times are event times from the frames; ``now_ms`` (arrival) is used only for
idle flushing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from shelfsense.devbus import Frame
from shelfsense.ids import DeviceId
from shelfsense.wire import (
    MAX_PAYLOAD_BYTES,
    Batch,
    RfidBatch,
    RfidCols,
    SensorBatch,
    SensorReading,
    StreamKind,
    WeightBatch,
    encode,
)

SEQ_MARGIN_BYTES = 32  # room for the real seq, which replaces the placeholder 0
PAYLOAD_LIMIT_BYTES = MAX_PAYLOAD_BYTES - SEQ_MARGIN_BYTES

_Read = tuple[int, str, int, float | None, int]  # ts, epc (upper-case), ant, rssi, n
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Draft:
    """A finished batch without its seq (``body.seq`` is a placeholder 0)."""

    device: DeviceId
    kind: StreamKind
    body: Batch

    def payload(self, seq: int) -> bytes:
        """The wire bytes with ``seq`` filled in."""
        return encode(self.body.model_copy(update={"seq": seq}))


@dataclass(slots=True)
class _Open:
    kind: StreamKind
    window_end_ms: int
    arrived_ms: int
    frames: list[Frame] = field(default_factory=list)

    @property
    def t1(self) -> int:
        return self.frames[-1].t1


class Batcher:
    """One open batch per device. ``batch_ms`` gives the batch length per stream kind."""

    def __init__(
        self,
        batch_ms: Mapping[StreamKind, int],
        *,
        payload_limit_bytes: int = PAYLOAD_LIMIT_BYTES,
    ) -> None:
        self._batch_ms = dict(batch_ms)
        self._limit = payload_limit_bytes
        self._open: dict[DeviceId, _Open] = {}
        self._last_t1: dict[DeviceId, int] = {}
        self.dropped_frames: dict[DeviceId, int] = {}

    def add(self, frame: Frame, now_ms: int) -> list[Draft]:
        """Take one frame (arrival time ``now_ms``); return the batches it closed."""
        last_t1 = self._last_t1.get(frame.device)
        if last_t1 is not None and frame.t0 < last_t1:
            self.dropped_frames[frame.device] = self.dropped_frames.get(frame.device, 0) + 1
            return []
        out: list[Draft] = []
        current = self._open.get(frame.device)
        if current is not None and not _continues(current, frame):
            out += self.flush(frame.device)
            current = None
        if current is None:
            current = self._open[frame.device] = self._start(frame, now_ms)
        current.frames.append(frame)
        current.arrived_ms = now_ms
        self._last_t1[frame.device] = frame.t1
        if frame.t1 >= current.window_end_ms:
            out += self.flush(frame.device)
        return out

    def flush(self, device: DeviceId) -> list[Draft]:
        """Close the device's partial batch, if any."""
        current = self._open.pop(device, None)
        return [] if current is None else self._close(device, current)

    def flush_all(self) -> list[Draft]:
        return [draft for device in list(self._open) for draft in self.flush(device)]

    def flush_idle(self, now_ms: int) -> list[Draft]:
        """Close partial batches whose device sent nothing for ``batch_ms`` of arrival time."""
        idle = [
            device
            for device, current in self._open.items()
            if now_ms - current.arrived_ms >= self._batch_ms[current.kind]
        ]
        return [draft for device in idle for draft in self.flush(device)]

    def open_devices(self) -> list[DeviceId]:
        return list(self._open)

    def _start(self, frame: Frame, now_ms: int) -> _Open:
        batch_ms = self._batch_ms[frame.kind]
        window_end_ms = (frame.t0 // batch_ms + 1) * batch_ms
        return _Open(frame.kind, window_end_ms, now_ms)

    def _close(self, device: DeviceId, current: _Open) -> list[Draft]:
        frames = current.frames
        bodies: list[Batch]
        match current.kind:
            case StreamKind.RFID:
                bodies = list(_rfid_batches(frames, self._limit))
            case StreamKind.WEIGHT:
                bodies = list(_weight_batches(frames, self._limit))
            case _:
                bodies = list(_sensor_batches(frames, self._limit))
        return [Draft(device, current.kind, body) for body in bodies]


def _continues(current: _Open, frame: Frame) -> bool:
    if frame.kind != current.kind or frame.t0 != current.t1:
        return False
    if frame.kind != StreamKind.WEIGHT:
        return True
    head, new = current.frames[0].body, frame.body
    assert isinstance(head, WeightBatch) and isinstance(new, WeightBatch)
    if new.hz != head.hz:
        return False
    samples = sum(len(f.body.g) for f in current.frames if isinstance(f.body, WeightBatch))
    return samples + len(new.g) == round((frame.t1 - current.frames[0].t0) * head.hz / 1000)


# --- per kind ----------------------------------------------------------------------------


def _rfid_batches(frames: Sequence[Frame], limit: int) -> list[RfidBatch]:
    def build(group: Sequence[Frame]) -> RfidBatch:
        return _rfid_batch(group[0].t0, group[-1].t1, _ants(group), _reads(group))

    def split_one(frame: Frame) -> list[RfidBatch]:
        ants = _ants([frame])

        def part(t0: int, t1: int, reads: Sequence[_Read]) -> RfidBatch:
            return _rfid_batch(t0, t1, ants, reads)

        return _split_by_ts(frame.t0, frame.t1, _reads([frame]), lambda r: r[0], part, limit)

    return _fit(frames, build, split_one, limit)


def _rfid_batch(t0: int, t1: int, ants: list[int], reads: Sequence[_Read]) -> RfidBatch:
    return RfidBatch(v=1, seq=0, t0=t0, t1=t1, ants=ants, cols=_merge(reads))


def _ants(frames: Sequence[Frame]) -> list[int]:
    return sorted({a for f in frames if isinstance(f.body, RfidBatch) for a in f.body.ants})


def _reads(frames: Sequence[Frame]) -> list[_Read]:
    """Every read row of the frames, sorted by (ts, epc, ant)."""
    rows: list[_Read] = []
    for frame in frames:
        if isinstance(frame.body, RfidBatch):
            c = frame.body.columns()
            rows += zip(c.ts, c.epc, c.ant, c.rssi, c.n, strict=True)
    return sorted(rows, key=lambda r: (r[0], r[1], r[2]))


def _merge(reads: Sequence[_Read]) -> RfidCols:
    """Per (epc, ant): peak rssi, last ts, summed n; sorted by (ts, epc, ant)."""
    merged: dict[tuple[str, int], tuple[int, float | None, int]] = {}
    for ts, epc, ant, rssi, n in reads:
        seen = merged.get((epc, ant))
        if seen is not None:
            ts, rssi, n = max(ts, seen[0]), _peak(rssi, seen[1]), n + seen[2]
        merged[(epc, ant)] = (ts, rssi, n)
    rows = sorted(((ts, epc, ant), rssi, n) for (epc, ant), (ts, rssi, n) in merged.items())
    rssi_col = [rssi for _, rssi, _ in rows]
    return RfidCols(
        epc=[key[1] for key, _, _ in rows],
        ant=[key[2] for key, _, _ in rows],
        ts=[key[0] for key, _, _ in rows],
        rssi=rssi_col if any(v is not None for v in rssi_col) else None,
        n=[n for _, _, n in rows],
    )


def _peak(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return b if a is None else a
    return max(a, b)


def _weight_batches(frames: Sequence[Frame], limit: int) -> list[WeightBatch]:
    """Frames joined; a single frame too large is left as the device sent it."""

    def build(group: Sequence[Frame]) -> WeightBatch:
        bodies = [f.body for f in group if isinstance(f.body, WeightBatch)]
        g = [grams for body in bodies for grams in body.g]
        return WeightBatch(v=1, seq=0, t0=group[0].t0, t1=group[-1].t1, hz=bodies[0].hz, g=g)

    return _fit(frames, build, lambda frame: [build([frame])], limit)


def _sensor_batches(frames: Sequence[Frame], limit: int) -> list[SensorBatch]:
    def build(group: Sequence[Frame]) -> SensorBatch:
        return _sensor_batch(group[0].t0, group[-1].t1, _readings(group))

    def split_one(frame: Frame) -> list[SensorBatch]:
        readings = _readings([frame])
        return _split_by_ts(frame.t0, frame.t1, readings, lambda r: r.ts, _sensor_batch, limit)

    return _fit(frames, build, split_one, limit)


def _sensor_batch(t0: int, t1: int, readings: Sequence[SensorReading]) -> SensorBatch:
    return SensorBatch(v=1, seq=0, t0=t0, t1=t1, readings=list(readings))


def _readings(frames: Sequence[Frame]) -> list[SensorReading]:
    found = [r for f in frames if isinstance(f.body, SensorBatch) for r in f.body.readings]
    return sorted(found, key=lambda r: r.ts)


# --- splitting ----------------------------------------------------------------------------

_B = TypeVar("_B", RfidBatch, WeightBatch, SensorBatch)


def _fit(
    frames: Sequence[Frame],
    build: Callable[[Sequence[Frame]], _B],
    split_one: Callable[[Frame], list[_B]],
    limit: int,
) -> list[_B]:
    """``build(frames)``, halved at frame boundaries until each part fits in ``limit``.

    Cutting between frames keeps every part exact; only a single frame too large is cut inside,
    by ``split_one``.
    """
    body = build(frames)
    if len(encode(body)) <= limit:
        return [body]
    if len(frames) == 1:
        return split_one(frames[0])
    half = len(frames) // 2
    return _fit(frames[:half], build, split_one, limit) + _fit(
        frames[half:], build, split_one, limit
    )


def _split_by_ts(
    t0: int,
    t1: int,
    items: Sequence[_T],
    ts_of: Callable[[_T], int],
    build: Callable[[int, int, Sequence[_T]], _B],
    limit: int,
) -> list[_B]:
    """``build(t0, t1, items)``, halved at a ts boundary until each part fits in ``limit``.

    ``items`` are sorted by ts. Parts are ``[t0, cut)`` and ``[cut, t1)``, so they tile. When
    every item has the same ts there is no boundary to cut at, and the batch goes out as is.
    """
    body = build(t0, t1, items)
    if len(items) < 2 or len(encode(body)) <= limit:
        return [body]
    stamps = [ts_of(item) for item in items]
    cut = stamps[len(stamps) // 2]
    if cut <= t0:
        cut = next((ts for ts in stamps if ts > t0), t0)
    if cut <= t0:
        return [body]
    at = bisect_left(stamps, cut)
    left = _split_by_ts(t0, cut, items[:at], ts_of, build, limit)
    return left + _split_by_ts(cut, t1, items[at:], ts_of, build, limit)
