"""PURE RFID tag tracker: contract batches in, tag movements out (no I/O, event time only).

Per tag a small state machine (see `TagState`)::

    UNKNOWN --read--> TENTATIVE --settled (arrive_settle_ms, min reads)--> PRESENT@L   [arrive]
    PRESENT@L1 --challenger L2 leads (hysteresis + dwell)--> PRESENT@L2                 [move]
    PRESENT@L --missed a full adaptive window of *observed* rounds--> GONE              [depart]
    GONE --read--> TENTATIVE;  any --portal inside->outside--> UNKNOWN                    [exit]
    UNKNOWN --portal outside->inside--> GONE (in the store, on no antenna)                [entry]

PRESENT@L reads as NOT_OBSERVABLE while L's antennas are not observing (device silent or offline,
a gap between batches, an antenna missing from `ants`). Misses are counted in observed rounds only
(`ingest.rfid_coverage`), so an outage can never produce a departure, and after it each tag needs a
full fresh window. The window is per tag (`ingest.rfid_state.window_rounds`), arbitration between
antennas is in `ingest.rfid_arbitration`, portal direction in `ingest.rfid_portal`.

Throughput: a read on the tag's confirmed location takes a short inline path; every other read,
and every decision, takes the slow path. Memory is O(live tags): gone tags are forgotten after
`forget_gone_ms`, tentative ones after `max_window_ms`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ingest import rfid_coverage as coverage
from ingest import rfid_snapshot
from ingest.rfid_arbitration import (
    LAST_TS,
    RSSI_MISSING_DBM,
    STRONG_TS,
    Challenger,
    add_other,
    best_other,
    move_target,
    no_contender,
    own_mean_rssi,
    settle_location,
)
from ingest.rfid_portal import Traversal, decide
from ingest.rfid_state import Device, Loc, Tag, degradation, read_prob_lower, window_rounds
from ingest.rfid_types import (
    AntennaSpec,
    PortalSide,
    RfidConfigError,
    RfidError,
    TagMoveKind,
    TagMovement,
    TagState,
    TrackerConfig,
)

__all__ = [
    "AntennaSpec",
    "PortalSide",
    "RfidConfigError",
    "RfidError",
    "TagMoveKind",
    "TagMovement",
    "TagState",
    "TagTracker",
    "TrackerConfig",
]

_FORGET_GONE_MS = 3 * 3600 * 1000
_RESUME_ROUNDS = math.log(1000.0)  # / -ln(1-p): rounds in which a present tag is heard (99.9 %)


class TagTracker:
    """Debounces, arbitrates and localises RFID reads; see the module docstring."""

    def __init__(self, config: TrackerConfig, antennas: Sequence[AntennaSpec]) -> None:
        self._cfg = config
        self._devices, self._locs = coverage.build(antennas, config)
        self._tags: dict[str, Tag] = {}
        self._tentative: dict[str, Tag] = {}
        self._traversals: dict[str, tuple[Traversal, Device]] = {}
        self._now_ms = 0
        self._last_prune_ms = 0

    # ------------------------------------------------------------------ batches in
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
        """Apply one contract batch (columnar); returns the movements it settles."""
        if not len(epc) == len(ant) == len(rssi) == len(ts) == len(n):
            raise RfidError("columns epc/ant/rssi/ts/n differ in length")
        if t1_ms <= t0_ms:
            raise RfidError("t1 must be after t0")
        dev = self._devices.get(device)
        if dev is None:
            return []
        coverage.learn_rounds(dev, t0_ms, t1_ms, n, self._cfg)
        rounds, shelves = coverage.advance(dev, t0_ms, t1_ms, ants, self._cfg)
        self._now_ms = max(self._now_ms, t1_ms)
        out: list[TagMovement] = []
        touched = self._apply_reads(dev, t1_ms, rounds, epc, ant, rssi, ts, n)
        for loc in shelves:
            loc.clock += rounds * degradation(loc, rounds)
        for tag in touched:
            if tag.state is TagState.PRESENT and tag.ev is not None:
                self._maybe_move(tag, t1_ms, out)
        self._settle_tentative(t1_ms, out)
        if rounds > 0:
            self._scan_departures(dev, shelves, rounds, t1_ms, out)
        self._close_traversals(out)
        return out

    def _apply_reads(
        self,
        dev: Device,
        t1_ms: int,
        rounds: float,
        epc: Sequence[str],
        ant: Sequence[int],
        rssi: Sequence[float | None],
        ts: Sequence[int],
        n: Sequence[int],
    ) -> list[Tag]:
        tags, ports = self._tags, dev.ports
        tau = self._cfg.arbitration_tau_ms
        r_per_ms = dev.rounds_per_s / 1000.0
        touched: dict[str, Tag] = {}
        for i, e in enumerate(epc):
            port_entry = ports.get(ant[i])
            if port_entry is None:
                continue
            spec, loc = port_entry
            r = rssi[i]
            rv = RSSI_MISSING_DBM if r is None else float(r)
            ti, ni = int(ts[i]), int(n[i])
            if spec.side is not None:
                self._portal_read(dev, e, spec, loc, ni, rv, ti)
                continue
            tag = tags.get(e)
            if tag is not None and tag.loc is loc:
                # fast path: a read on the confirmed location
                tag.n_sum += ni
                loc.batch_reads += ni
                if ti > tag.last_ts_ms:
                    tag.last_ts_ms = ti
                    seen = loc.clock + rounds - (t1_ms - ti) * r_per_ms if rounds else loc.clock
                    if seen > tag.seen_clock:
                        tag.seen_clock = seen
                if ti > tag.ev_t_ms:
                    k = math.exp((tag.ev_t_ms - ti) / tau)
                    tag.cnt = tag.cnt * k + ni
                    tag.rssi_sum = tag.rssi_sum * k + ni * rv
                    tag.ev_t_ms = ti
                else:
                    tag.cnt += ni
                    tag.rssi_sum += ni * rv
                loc.present.move_to_end(e)
                if tag.ev is not None:
                    touched[e] = tag
                continue
            touched[e] = self._read_elsewhere(tag, e, loc, ni, rv, ti)
        return list(touched.values())

    def _read_elsewhere(
        self, tag: Tag | None, epc: str, loc: Loc, n: int, rssi: float, ts_ms: int
    ) -> Tag:
        """A read of an unknown, tentative or gone tag, or of a tag confirmed elsewhere."""
        if tag is None:
            tag = self._tags[epc] = Tag(epc, ts_ms)
            self._tentative[epc] = tag
        elif tag.state is TagState.GONE:
            tag.state = TagState.TENTATIVE
            tag.first_ts_ms = ts_ms
            tag.n_sum = 0
            tag.ev = None
            self._tentative[epc] = tag
        if tag.state is TagState.TENTATIVE:
            tag.n_sum += n
            tag.first_ts_ms = min(tag.first_ts_ms, ts_ms)
            tag.last_ts_ms = max(tag.last_ts_ms, ts_ms)
        elif tag.loc is not None and loc.key not in tag.loc.neighbours:
            tag.loc.neighbours.add(loc.key)
            loc.neighbours.add(tag.loc.key)
        cfg = self._cfg
        add_other(tag, loc.key, n, rssi, ts_ms, cfg.arbitration_tau_ms, cfg.hysteresis_db)
        return tag

    # ------------------------------------------------------------------ decisions
    def _settle_tentative(self, now_ms: int, out: list[TagMovement]) -> None:
        cfg = self._cfg
        ready = []
        for epc, tag in self._tentative.items():
            if now_ms - tag.first_ts_ms < cfg.arrive_settle_ms:
                break  # kept in order of first sight: the rest are younger
            ready.append((epc, tag))
        for epc, tag in ready:
            ch, lead_db = settle_location(tag, now_ms, cfg)
            if ch is None or now_ms - tag.last_ts_ms > cfg.max_window_ms:
                self._forget(epc)
                continue
            if tag.n_sum < cfg.arrive_min_reads:
                continue
            age_ms = now_ms - tag.first_ts_ms
            if age_ms < cfg.arrive_settle_ms or (
                lead_db < cfg.hysteresis_db and age_ms < 2 * cfg.arrive_settle_ms
            ):
                continue
            if self._near_dark_port(tag):
                continue  # what it heard may be cross-reads of a tag on the unobserved antenna
            del self._tentative[epc]
            loc = self._locs[ch.location]
            grace_ms = _RESUME_ROUNDS / -math.log1p(-cfg.prior_read_prob) / self._rps(loc) * 1e3
            first = _arrival_ts(tag, _first_ts(tag, ch.location), loc, grace_ms)
            self._relocate(tag, loc)
            tag.state = TagState.PRESENT
            out.append(self._movement(tag, TagMoveKind.ARRIVE, first, None, ch))

    def _rps(self, loc: Loc) -> float:
        """Inventory rounds per second of the (first) reader watching `loc`."""
        return self._devices[loc.antennas[0][0]].rounds_per_s

    def _near_dark_port(self, tag: Tag) -> bool:
        """Was the tag heard next to a location none of whose antennas is in its reader's `ants`
        (neighbours are learned from the cross-reads of confirmed tags)?"""
        assert tag.ev is not None
        locs = self._locs
        return any(not locs[nb].live_ports for key in tag.ev for nb in locs[key].neighbours)

    def _maybe_move(self, tag: Tag, now_ms: int, out: list[TagMovement]) -> None:
        """Arbitrate only while the tag's own location is watched (and not just resumed)."""
        here = tag.loc
        assert here is not None
        if not here.live_ports or now_ms - here.resume_ms < 2 * self._cfg.arbitration_tau_ms:
            tag.lead_since_ms = None
            return
        if tag.lead_since_ms is None and no_contender(tag, now_ms, self._cfg):
            return
        ch = move_target(tag, now_ms, self._cfg)
        if ch is None:
            return
        old = tag.loc
        assert old is not None
        lead_ms = (tag.lead_since_ms or now_ms) - self._cfg.arbitration_tau_ms // 2
        ts_ms = max(min(max(ch.since_ms, lead_ms), now_ms), tag.last_move_ts_ms)
        self._relocate(tag, self._locs[ch.location])
        out.append(self._movement(tag, TagMoveKind.MOVE, ts_ms, old.key, ch))

    def _scan_departures(
        self, dev: Device, shelves: list[Loc], rounds: float, now_ms: int, out: list[TagMovement]
    ) -> None:
        r_per_s = dev.rounds_per_s
        w_min = self._cfg.min_window_ms * r_per_s / 1000.0
        for loc in dict.fromkeys(shelves):
            for tag in self._expired(loc, w_min, rounds, r_per_s):
                self._depart(tag, loc, now_ms, r_per_s, out)

    def _expired(self, loc: Loc, w_min: float, rounds: float, r_per_s: float) -> list[Tag]:
        gone: list[Tag] = []
        floor = loc.resume_clock
        for tag in loc.present.values():
            missed = loc.clock - max(tag.seen_clock, floor)
            if missed + 2 * rounds < w_min:
                break
            if missed >= window_rounds(read_prob_lower(tag, self._cfg), r_per_s, self._cfg):
                gone.append(tag)
        return gone

    def _depart(
        self, tag: Tag, loc: Loc, now_ms: int, r_per_s: float, out: list[TagMovement]
    ) -> None:
        p = read_prob_lower(tag, self._cfg)
        window_ms = 1000.0 * window_rounds(p, r_per_s, self._cfg) / r_per_s
        ch = best_other(tag, now_ms, self._cfg)
        if ch is not None and self._heard_elsewhere(tag, ch, now_ms, window_ms):
            ts_ms = max(min(max(ch.since_ms, tag.last_ts_ms), now_ms), tag.last_move_ts_ms)
            self._relocate(tag, self._locs[ch.location])
            out.append(self._movement(tag, TagMoveKind.MOVE, ts_ms, loc.key, ch))
            return
        missed = loc.clock - max(tag.seen_clock, loc.resume_clock)
        if tag.seen_clock < loc.resume_clock:  # last read before an outage: somewhere in it
            ts_ms = (tag.last_ts_ms + loc.resume_ms) // 2
        else:
            ts_ms = tag.last_ts_ms + int(min(1000.0, 500.0 / (p * r_per_s)))
        ts_ms = max(min(ts_ms, now_ms), tag.last_move_ts_ms)
        del loc.present[tag.epc]
        tag.loc = None
        tag.state = TagState.GONE
        tag.ev = None
        tag.last_ts_ms = now_ms
        tag.last_move_ts_ms = ts_ms
        conf = 1.0 - self._cfg.false_departure_delta * math.pow(1.0 - p, max(0.0, missed - 1))
        evidence: dict[str, object] = {
            "missed_rounds": round(missed, 1),
            "read_prob": round(p, 3),
            "window_rounds": round(window_rounds(p, r_per_s, self._cfg), 1),
            "reads": tag.n_sum,
            "antennas": [f"{d}:{p_}" for d, p_ in loc.antennas],
            "detected_ms": now_ms,
        }
        out.append(TagMovement(tag.epc, TagMoveKind.DEPART, ts_ms, loc.key, None, conf, evidence))

    def _heard_elsewhere(self, tag: Tag, ch: Challenger, now_ms: int, window_ms: float) -> bool:
        """A silent tag moved (rather than left) if it is heard elsewhere since, still now (within
        half its window: a moved tag keeps answering) and nearly as loud as at home; a few
        cross-reads just before it left do not make a move."""
        cfg = self._cfg
        return (
            ch.cnt >= cfg.move_min_reads
            and ch.last_ms > tag.last_ts_ms
            and now_ms - ch.last_ms <= window_ms / 2
            and ch.mean_rssi_dbm >= own_mean_rssi(tag) - cfg.hysteresis_db
        )

    def _relocate(self, tag: Tag, new: Loc) -> None:
        """Make `new` the tag's confirmed location, swapping inline and `ev` evidence."""
        ev = tag.ev if tag.ev is not None else {}
        old = tag.loc
        if old is not None:
            old.present.pop(tag.epc, None)
            ev[old.key] = [tag.cnt, tag.rssi_sum, float(tag.ev_t_ms), 0.0, float(tag.last_ts_ms)]
        entry = ev.pop(new.key, None)
        if entry is not None:
            tag.cnt, tag.rssi_sum, tag.ev_t_ms = entry[0], entry[1], int(entry[2])
            tag.last_ts_ms = int(entry[LAST_TS])
        for other in ev.values():
            other[STRONG_TS] = 0.0  # the next loud read there starts a new run
        tag.ev = ev or None
        tag.loc = new
        tag.n_sum = 0
        tag.clock0 = tag.seen_clock = new.clock
        tag.lead_since_ms = None
        new.present[tag.epc] = tag

    def _movement(
        self,
        tag: Tag,
        kind: TagMoveKind,
        ts_ms: int,
        from_key: str | None,
        ch: Challenger,
    ) -> TagMovement:
        ts_ms = max(ts_ms, tag.last_move_ts_ms)
        tag.last_move_ts_ms = ts_ms
        margin = ch.score_db - ch.own_score_db if math.isfinite(ch.own_score_db) else 10.0
        conf = min(0.999, (1.0 - math.exp(-ch.cnt / 2.0)) * (1.0 - 0.5 * math.exp(-margin / 3.0)))
        evidence: dict[str, object] = {
            "reads": round(ch.cnt, 2),
            "mean_rssi_dbm": round(ch.mean_rssi_dbm, 1),
            "score_margin_db": round(margin, 1) if math.isfinite(margin) else None,
            "antennas": [f"{d}:{p}" for d, p in self._locs[ch.location].antennas],
            "detected_ms": self._now_ms,
        }
        return TagMovement(tag.epc, kind, ts_ms, from_key, ch.location, max(0.0, conf), evidence)

    # ------------------------------------------------------------------ portals
    def _portal_read(
        self, dev: Device, epc: str, spec: AntennaSpec, loc: Loc, n: int, rssi: float, ts_ms: int
    ) -> None:
        entry = self._traversals.get(epc)
        if entry is None or entry[0].portal != loc.key:
            entry = self._traversals[epc] = (Traversal(loc.key, ts_ms), dev)
        assert spec.side is not None
        entry[0].add(spec.side, n, rssi, ts_ms)

    def _close_traversals(self, out: list[TagMovement]) -> None:
        gap = self._cfg.portal_gap_ms
        for epc, (tr, dev) in list(self._traversals.items()):
            frontier = dev.frontier_ms or 0
            if (
                frontier >= tr.last_ts_ms + gap
                or self._now_ms >= tr.last_ts_ms + gap + self._cfg.device_silence_ms
            ):
                del self._traversals[epc]
                self._crossing(epc, tr, out)

    def _crossing(self, epc: str, tr: Traversal, out: list[TagMovement]) -> None:
        tag = self._tags.get(epc)
        crossing = decide(tr, known_inside=tag is not None)
        ts_ms = max(crossing.ts_ms, tag.last_move_ts_ms if tag is not None else 0)
        if not crossing.exit:
            if tag is None:
                tag = self._tags[epc] = Tag(epc, ts_ms)
                tag.state = TagState.GONE
            tag.last_move_ts_ms = ts_ms
            out.append(
                TagMovement(
                    epc,
                    TagMoveKind.ENTRY,
                    ts_ms,
                    None,
                    tr.portal,
                    crossing.confidence,
                    crossing.evidence,
                )
            )
            return
        if tag is not None and tag.loc is not None:
            loc = tag.loc
            dep = max(tag.last_move_ts_ms, min(ts_ms, tag.last_ts_ms + 500))
            loc.present.pop(epc, None)
            evidence: dict[str, object] = {"reason": "portal_exit", "portal": tr.portal}
            out.append(
                TagMovement(
                    epc, TagMoveKind.DEPART, dep, loc.key, None, crossing.confidence, evidence
                )
            )
        self._forget(epc)
        out.append(
            TagMovement(
                epc,
                TagMoveKind.EXIT,
                ts_ms,
                tr.portal,
                None,
                crossing.confidence,
                crossing.evidence,
            )
        )

    # ------------------------------------------------------------------ watermark and queries
    def device_offline(self, device: str, ts_ms: int) -> None:
        """The device (or its gateway) went offline at `ts_ms`: its locations are not observable."""
        dev = self._devices.get(device)
        if dev is not None:
            dev.offline = True
        self._now_ms = max(self._now_ms, ts_ms)

    def expire(self, now_ms: int) -> list[TagMovement]:
        """Advance the event-time watermark: settle arrivals and close finished portal crossings.

        Departures need observed rounds, so they are found when batches arrive, never here.
        """
        self._now_ms = max(self._now_ms, now_ms)
        out: list[TagMovement] = []
        self._settle_tentative(self._now_ms, out)
        self._close_traversals(out)
        if self._now_ms - self._last_prune_ms > 60_000:
            self._prune_gone()
        return out

    def _prune_gone(self) -> None:
        self._last_prune_ms = self._now_ms
        horizon = self._now_ms - _FORGET_GONE_MS
        stale = [
            e for e, t in self._tags.items() if t.state is TagState.GONE and t.last_ts_ms < horizon
        ]
        for epc in stale:
            del self._tags[epc]

    def _forget(self, epc: str) -> None:
        tag = self._tags.pop(epc, None)
        self._tentative.pop(epc, None)
        if tag is not None and tag.loc is not None:
            tag.loc.present.pop(epc, None)

    def present(self) -> Mapping[str, str]:
        """epc -> location of confirmed tags (including those whose location is not observable)."""
        return {e: t.loc.key for e, t in self._tags.items() if t.loc is not None}

    def unobservable_locations(self) -> frozenset[str]:
        """Locations whose stock is `unknown` at the watermark."""
        return coverage.unobservable(self._devices, self._locs, self._now_ms, self._cfg)

    def tag_state(self, epc: str) -> TagState:
        tag = self._tags.get(epc)
        if tag is None:
            return TagState.UNKNOWN
        if tag.loc is not None and tag.loc.key in self.unobservable_locations():
            return TagState.NOT_OBSERVABLE
        return tag.state

    def live_tags(self) -> int:
        return len(self._tags)

    def snapshot(self) -> dict[str, object]:
        """JSON-serialisable state; `restore` rebuilds an equivalent tracker."""
        return rfid_snapshot.dump(
            self._tags, self._locs, self._devices, self._traversals, self._now_ms
        )

    @classmethod
    def restore(
        cls, config: TrackerConfig, antennas: Sequence[AntennaSpec], snap: Mapping[str, object]
    ) -> TagTracker:
        tracker = cls(config, antennas)
        tracker._now_ms = rfid_snapshot.load(
            snap, tracker._tags, tracker._locs, tracker._devices, tracker._traversals
        )
        tracker._tentative = {
            e: t for e, t in tracker._tags.items() if t.state is TagState.TENTATIVE
        }
        return tracker


def _arrival_ts(tag: Tag, first_ms: int, loc: Loc, grace_ms: float) -> int:
    """A tag first heard at `loc` within `grace_ms` of its antennas coming back after a gap was
    already there: it arrived when it was first heard anywhere (cross-reads, before the
    antennas came back), or else at an unknown time in the gap, dated to its middle (as
    departures during a gap are)."""
    if loc.gap_from_ms > 0 and loc.resume_ms <= first_ms < loc.resume_ms + grace_ms:
        if tag.first_ts_ms < loc.resume_ms:
            return tag.first_ts_ms
        return (loc.gap_from_ms + loc.resume_ms) // 2
    return first_ms


def _first_ts(tag: Tag, key: str) -> int:
    entry = tag.ev.get(key) if tag.ev is not None else None
    if entry is None or entry[STRONG_TS] <= 0:
        return tag.first_ts_ms
    return int(entry[STRONG_TS])
