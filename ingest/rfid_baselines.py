"""PURE baseline trackers for the accuracy bench: a fixed smoothing window, naive arbitration.

What simple middleware does (an ALE-style fixed window): a tag is where its strongest read of the
latest second was (no hysteresis; reads are gathered per reader into one-second event-time
cycles on the epoch grid, whatever the batch length, and a cycle is applied once a batch of a
later one arrives), and it departs once it has not been read for `window_ms` of
its reader's time (the end of that reader's latest batch; the latest event time of any reader
once that one is silent), whether or not the antennas were observing. Portal direction is the
order of the first inside and first outside read. Same observe/expire/present surface as
`ingest.rfid.TagTracker`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ingest.rfid_types import AntennaSpec, PortalSide, TagMoveKind, TagMovement

_BATCH_SLACK_MS = 1000
_CYCLE_MS = 1000


class FixedWindowTracker:
    """Fixed-window debouncer; `window_ms` is the silence after which a tag departs."""

    def __init__(self, window_ms: int, antennas: Sequence[AntennaSpec]) -> None:
        if window_ms <= 0:
            raise ValueError("window_ms must be > 0")
        self._window_ms = window_ms
        self._spec = {(a.device, a.port): a for a in antennas}
        self._loc: dict[str, str] = {}  # epc -> location
        self._last: dict[str, int] = {}  # epc -> last read ms
        self._dev_of: dict[str, str] = {}  # epc -> the device that read it last
        self._frontier: dict[str, int] = {}  # device -> end of its latest batch (ms)
        self._portal: dict[str, list[int]] = {}  # epc -> [first_in, first_out, last, portal idx]
        self._portals: list[str] = []
        self._now_ms = 0
        self._cycle: dict[str, tuple[int, dict[str, tuple[float, str, int]]]] = {}

    def observe(
        self,
        device: str,
        t0_ms: int,
        t1_ms: int,
        ants: Sequence[int],
        epc: Sequence[str],
        ant: Sequence[int],
        rssi: Sequence[float | None],
        ts: Sequence[int],
        n: Sequence[int],
    ) -> list[TagMovement]:
        out = self._close_cycle(device, t0_ms)
        best = self._cycle.setdefault(device, (t0_ms // _CYCLE_MS, {}))[1]
        self._frontier[device] = max(self._frontier.get(device, t1_ms), t1_ms)
        for i, e in enumerate(epc):
            spec = self._spec.get((device, ant[i]))
            if spec is None:
                continue
            if spec.side is not None:
                self._portal_read(e, spec, int(ts[i]))
                continue
            r = rssi[i]
            cand = (-99.0 if r is None else float(r), spec.location, int(ts[i]))
            self._last[e] = max(self._last.get(e, cand[2]), cand[2])  # heard: not gone
            if e not in best or cand[0] > best[e][0]:
                best[e] = cand
                self._dev_of[e] = device
        self._now_ms = max(self._now_ms, t1_ms)
        return out + self.expire(t1_ms)

    def _close_cycle(self, device: str, t0_ms: int) -> list[TagMovement]:
        """Apply the device's gathered cycle once a batch of a later cycle begins."""
        open_cycle = self._cycle.get(device)
        if open_cycle is None or t0_ms // _CYCLE_MS == open_cycle[0]:
            return []
        del self._cycle[device]
        best = open_cycle[1]
        return [m for e, (_, loc, t) in best.items() if (m := self._seen(e, loc, t)) is not None]

    def _seen(self, epc: str, loc: str, ts_ms: int) -> TagMovement | None:
        old = self._loc.get(epc)
        self._last[epc] = max(self._last.get(epc, ts_ms), ts_ms)
        if old == loc:
            return None
        self._loc[epc] = loc
        kind = TagMoveKind.ARRIVE if old is None else TagMoveKind.MOVE
        return TagMovement(epc, kind, ts_ms, old, loc, 1.0, {})

    def _portal_read(self, epc: str, spec: AntennaSpec, ts_ms: int) -> None:
        if spec.location not in self._portals:
            self._portals.append(spec.location)
        rec = self._portal.setdefault(epc, [0, 0, ts_ms, self._portals.index(spec.location)])
        slot = 0 if spec.side is PortalSide.INSIDE else 1
        if rec[slot] == 0:
            rec[slot] = ts_ms
        rec[2] = max(rec[2], ts_ms)

    def device_offline(self, device: str, ts_ms: int) -> None:
        """Ignored: a fixed window does not know about outages."""

    def expire(self, now_ms: int) -> list[TagMovement]:
        self._now_ms = max(self._now_ms, now_ms)
        out: list[TagMovement] = []
        horizon = self._now_ms - self._window_ms
        late = [e for e, t in self._last.items() if e in self._loc and t < self._horizon(e)]
        for epc in late:
            loc = self._loc.pop(epc)
            out.append(TagMovement(epc, TagMoveKind.DEPART, self._last[epc], loc, None, 1.0, {}))
        for epc in [e for e, r in self._portal.items() if r[2] < horizon]:
            out.extend(self._crossing(epc, self._portal.pop(epc)))
        return out

    def _horizon(self, epc: str) -> int:
        """Reads before this are too old: the tag's reader's time (a batch behind the others at
        most, as readers deliver in turn) minus the window; the watermark once the reader is
        silent for longer."""
        frontier = self._frontier.get(self._dev_of.get(epc, ""), self._now_ms)
        ref = frontier if self._now_ms - frontier <= _BATCH_SLACK_MS else self._now_ms
        return ref - self._window_ms

    def _crossing(self, epc: str, rec: list[int]) -> list[TagMovement]:
        first_in, first_out, last, idx = rec
        portal = self._portals[idx]
        known = epc in self._last
        leaving = first_in < first_out if first_in and first_out else known
        if not leaving:
            return [TagMovement(epc, TagMoveKind.ENTRY, last, None, portal, 1.0, {})]
        out: list[TagMovement] = []
        if epc in self._loc:
            out.append(
                TagMovement(epc, TagMoveKind.DEPART, last, self._loc.pop(epc), None, 1.0, {})
            )
        self._last.pop(epc, None)
        out.append(TagMovement(epc, TagMoveKind.EXIT, last, portal, None, 1.0, {}))
        return out

    def present(self) -> Mapping[str, str]:
        return dict(self._loc)
