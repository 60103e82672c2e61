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
full fresh window; while a location's reads fall short of its learned rate (a shadow beginning,
`Loc.doubtful`) no departure is decided there. `device_offline` (a gateway's last will) only
marks it unobservable: batches that continue its stream (a spool replaying the outage, t0 = the
previous t1) are ordinary observation. A tag is not settled next to a location that is not
observing or, for a settle time, short of reads (its reads may be cross-reads of a tag
there, its own antenna out or shadowed), nor on a settle time's reads far below the level of
the tags confirmed there, and one heard as soon as a location comes back is dated into the gap
(`ingest.rfid_moves`), and so is a move to a location that
heard the tag from while its own could not (a read elsewhere while home is not hearing the tag
begins a run there, however faint). A tag whose home's antennas are out of `ants` (its reader
reporting: nothing will be replayed) moves to where it is heard loud for twice the settle time,
if that place has no neighbour out (`_heard_far_away`). A replayed read from before the tag's
latest movement (for a departed tag: before its last read where it was) is stale: where it
was, not where it is; a departure found in a replayed batch is a move only if the tag was heard
elsewhere by then (else a departure, and an arrival where it is heard later), and tentative
tags first heard in a replayed queue settle at its event time. A tentative tag that fades is
forgotten only if the store never knew it (else it is gone again, so its exit is still an
exit). The window is per tag (`ingest.rfid_window`: independent misses and deep fades),
arbitration between antennas is in `ingest.rfid_arbitration`, portal direction in
`ingest.rfid_portal`.

Throughput: a read on the tag's confirmed location takes a short inline path; every other read, and
every decision, takes the slow path (`no_contender` skips arbitration while no other location can
lead). Arbitration runs for the tags read elsewhere in the batch with the reads there to lead
(`move_min_reads`), and those whose challenger already leads: a read at home only strengthens
home. Memory is O(live tags): gone tags are forgotten after 3 h, tentative ones after
`max_window_ms` unheard. Deterministic: same batches, same movements; `snapshot` round-trips.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ingest import rfid_coverage as coverage
from ingest import rfid_moves as moves
from ingest import rfid_portal as portal
from ingest import rfid_shadow as shadow
from ingest import rfid_snapshot
from ingest.rfid_arbitration import (
    CNT,
    RSSI_MISSING_DBM,
    STRONG_TS,
    Challenger,
    best_other,
    move_target,
    no_contender,
    own_mean_rssi,
)
from ingest.rfid_state import Device, Loc, Tag, degradation, read_prob_lower
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
from ingest.rfid_window import window_rounds

# observed rounds of a location before the neighbours learned from its cross-reads are taken as
# all it has (a minute at 10 rounds/s: at 1 % cross-reads a tag there is cross-read ~6 times)
_NEIGHBOURS_KNOWN_ROUNDS = 600.0

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
_AWAY = (TagState.GONE, TagState.UNKNOWN)  # on no antenna, or out of the store (exit tombstone)


class TagTracker:
    """Debounces, arbitrates and localises RFID reads; see the module docstring."""

    def __init__(self, config: TrackerConfig, antennas: Sequence[AntennaSpec]) -> None:
        self._cfg = config
        self._devices, self._locs = coverage.build(antennas, config)
        self._tags: dict[str, Tag] = {}
        self._tentative: dict[str, Tag] = {}
        self._traversals: portal.Traversals = {}
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
        keep = self._cfg.max_window_ms * dev.rounds_per_s / 1000.0
        for loc in shelves:
            reads = loc.batch_reads
            loc.clock += rounds * degradation(loc, rounds)
            shadow.note_batch(loc, rounds, reads, keep)
            if loc.shadowed or loc.doubtful:
                loc.shadow_ms = max(loc.shadow_ms, t1_ms)
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
        cfg = self._cfg
        tau, need = cfg.arbitration_tau_ms, cfg.move_min_reads
        r_per_ms = dev.rounds_per_s / 1000.0
        touched: dict[str, Tag] = {}
        portal_rows: list[portal.Row] = []
        # values are the contract's ints and floats (validated by the wire model): no casts here
        for e, a, r, ti, ni in zip(epc, ant, rssi, ts, n, strict=True):
            port_entry = ports.get(a)
            if port_entry is None:
                continue
            spec, loc = port_entry
            rv = RSSI_MISSING_DBM if r is None else r
            if spec.side is not None:
                portal_rows.append((e, spec.side, loc.key, ni, rv, ti))
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
                if tag.lead_since_ms is not None:  # a challenger leads: keep arbitrating
                    touched[e] = tag
                continue
            tag = moves.read_elsewhere(self._tags, self._tentative, e, loc, ni, rv, ti, cfg)
            # arbitration can only move it if this location has the reads to lead, or another
            # already leads (a faint cross-read below `move_min_reads` changes nothing)
            entry = tag.ev.get(loc.key) if tag.ev is not None else None
            if tag.lead_since_ms is not None or (entry is not None and entry[CNT] >= need):
                touched[e] = tag
        if portal_rows:
            portal.read_batch(self._traversals, dev, portal_rows)
        return list(touched.values())

    # ------------------------------------------------------------------ decisions
    def _settle_tentative(self, now_ms: int, out: list[TagMovement]) -> None:
        cfg = self._cfg
        forget, settle = moves.settle_ready(
            self._tentative, self._locs, now_ms, cfg, self._rounds_per_s
        )
        for epc in forget:
            self._forget(epc)
        for tag, ch in settle:
            del self._tentative[tag.epc]
            loc = self._locs[ch.location]
            dev = self._reader(loc)
            first = moves.arrival_ts(tag, loc, dev.rounds_per_s, dev.span_ms, cfg)
            tag.state = TagState.PRESENT
            self._move(tag, TagMoveKind.ARRIVE, first, ch, out)

    def _maybe_move(self, tag: Tag, now_ms: int, out: list[TagMovement]) -> None:
        """Arbitrate only while the tag's own location is watched (and not just resumed)."""
        here = tag.loc
        assert here is not None
        if not here.live_ports or now_ms < self._weighed_again_ms(here):
            tag.lead_since_ms = None
            far = self._heard_far_away(tag, now_ms)
            if far is not None:
                ts_ms = max(min(self._moved_ts(far, tag.last_ts_ms), now_ms), tag.last_move_ts_ms)
                self._move(tag, TagMoveKind.MOVE, ts_ms, far, out)
            return
        if tag.lead_since_ms is None and no_contender(tag, now_ms, self._cfg):
            return
        ch = move_target(tag, now_ms, self._cfg)
        if ch is None:
            return
        if self._shaded_at_home(tag, ch, now_ms):
            return
        if moves.unsure_at(
            self._locs[ch.location], self._locs, now_ms - self._cfg.arrive_settle_ms
        ):
            return  # its reads there may be cross-reads of a shelf that is not inventorying
        if self._led_through_gap(tag, ch):  # heard there from while home could not weigh it
            start_ms = self._moved_ts(ch, min(tag.last_ts_ms, here.gap_from_ms))
        elif self._loud_since_home_fell_silent(tag, ch):
            start_ms = self._moved_ts(ch, tag.last_ts_ms)
        else:
            start_ms = max(
                ch.since_ms, (tag.lead_since_ms or now_ms) - self._cfg.arbitration_tau_ms // 2
            )
        ts_ms = max(min(start_ms, now_ms), tag.last_move_ts_ms)
        self._move(tag, TagMoveKind.MOVE, ts_ms, ch, out)

    def _scan_departures(
        self, dev: Device, shelves: list[Loc], rounds: float, now_ms: int, out: list[TagMovement]
    ) -> None:
        r_per_s, cfg = dev.rounds_per_s, self._cfg
        w_min = cfg.min_window_ms * r_per_s / 1000.0
        for loc in dict.fromkeys(shelves):
            if loc.doubtful:
                continue  # its reads fall short: a shadow may be beginning, wait a batch
            for tag in moves.expired(loc, w_min, rounds, r_per_s, cfg):
                self._depart(tag, loc, now_ms, r_per_s, out)

    def _depart(
        self, tag: Tag, loc: Loc, now_ms: int, r_per_s: float, out: list[TagMovement]
    ) -> None:
        cfg = self._cfg
        window_ms = 1000.0 * window_rounds(read_prob_lower(tag, cfg), r_per_s, cfg) / r_per_s
        ch = best_other(tag, now_ms, cfg)
        if (
            ch is not None
            and ch.since_ms <= now_ms  # not heard there only after this (replayed) batch
            and moves.heard_elsewhere(tag, ch, now_ms, window_ms, cfg)
            and not moves.unsure_at(
                self._locs[ch.location], self._locs, now_ms - cfg.arrive_settle_ms
            )
        ):
            home_last = self._home_last_before_run(tag, loc, ch)
            ts_ms = max(
                min(max(self._moved_ts(ch, home_last), home_last), now_ms), tag.last_move_ts_ms
            )
            self._move(tag, TagMoveKind.MOVE, ts_ms, ch, out)
            return
        out.append(moves.depart(tag, loc, now_ms, r_per_s, cfg))

    def _home_last_before_run(self, tag: Tag, home: Loc, ch: Challenger) -> int:
        """Home's last read of a tag that moved, as far as dating the move goes: its last before
        home's gap if the run where it went began in that gap or in the first `2 * tau` after
        it, and home heard the tag no later than that (reads there since, then a whole window of
        silence: cross-reads of it where it went). Else its last read."""
        if self._run_began_in_gap(home, ch) and tag.last_ts_ms <= self._weighed_again_ms(home):
            return min(tag.last_ts_ms, home.gap_from_ms)
        return tag.last_ts_ms

    def _heard_far_away(self, tag: Tag, now_ms: int) -> Challenger | None:
        """While home cannot weigh the tag (its antennas out of `ants`, or just back), the place
        it has been heard at loudly since after its last read at home, for twice the settle
        time, as loud as home heard it, if no neighbour of that place (home among them, if it
        is one) is out or just back: then its reads there cannot be cross-reads of a tag still
        at home, nor anywhere unobserved. Neighbours are learned from cross-reads, so both places
        must have been observed for `_NEIGHBOURS_KNOWN_ROUNDS` first (a shelf out since the
        store opened has none yet). Else None (the tag stays, unobservable)."""
        here, cfg = tag.loc, self._cfg
        assert here is not None
        if here.clock < _NEIGHBOURS_KNOWN_ROUNDS:
            return None
        if any(self._replay_may_come(self._devices[d], now_ms) for d, _ in here.antennas):
            return None  # its reader's queue, replayed, will tell when the tag left home
        ch = best_other(tag, now_ms, cfg)
        if ch is None or ch.since_ms <= tag.last_ts_ms:
            return None
        settle_ms = cfg.arrive_settle_ms
        if (
            now_ms - ch.since_ms < 2 * settle_ms
            or now_ms - ch.last_ms > settle_ms
            or ch.cnt < cfg.arrive_min_reads
            or ch.mean_rssi_dbm < own_mean_rssi(tag) - cfg.hysteresis_db
        ):
            return None
        there = self._locs[ch.location]
        if there.is_portal or there.clock < _NEIGHBOURS_KNOWN_ROUNDS:
            return None
        return None if moves.unsure_at(there, self._locs, now_ms - 2 * settle_ms) else ch

    def _replay_may_come(self, dev: Device, now_ms: int) -> bool:
        """Is the reader offline or silent (its batches may arrive later, replayed), rather than
        reporting with some antennas out of `ants` (what they miss is lost)?"""
        silence_ms = self._cfg.device_silence_ms
        return dev.offline or dev.frontier_ms is None or now_ms - dev.frontier_ms > silence_ms

    def _shaded_at_home(self, tag: Tag, ch: Challenger, now_ms: int) -> bool:
        """Is home short of reads (shadowed or doubtful within twice the arbitration time
        constant: its evidence decays over that) while it still hears the tag since the
        challenger's run began? An occlusion at home cuts its reads there, not the cross-reads
        of the unshaded antenna next door, which may then lead; a tag moved away is not heard
        at home at all (and one cross-read there is moved when the shadow lifts, dated by its
        run). Waiting on such a shadow must not hold the tags that left: their silence is what
        makes their old shelf short of reads."""
        here = tag.loc
        assert here is not None
        shaded = now_ms - here.shadow_ms < 2 * self._cfg.arbitration_tau_ms
        return shaded and tag.last_ts_ms >= ch.since_ms

    @staticmethod
    def _loud_since_home_fell_silent(tag: Tag, ch: Challenger) -> bool:
        """Has the challenger heard the tag in a loud run that began after home's last read of
        it? Then the tag got there when that run began (not when its lead did: home's evidence
        takes seconds to decay below it, longer while home is out)."""
        assert tag.ev is not None
        entry = tag.ev.get(ch.location)
        return entry is not None and entry[STRONG_TS] > tag.last_ts_ms

    def _led_through_gap(self, tag: Tag, ch: Challenger) -> bool:
        """Did the challenger's run begin while the tag's own location could not be weighed
        against it (in its gap, or in the first `2 * tau` after it, when no move is decided),
        and lead from then: silent at home since the gap, or leading as soon as arbitration
        resumed (a tag moved next door is cross-read at home, faintly, once home is back)?"""
        here, cfg = tag.loc, self._cfg
        assert here is not None and tag.lead_since_ms is not None
        if not self._run_began_in_gap(here, ch):
            return False
        if tag.last_ts_ms < ch.since_ms <= here.resume_ms:
            return True
        return tag.lead_since_ms <= self._weighed_again_ms(here) + cfg.move_dwell_ms

    def _run_began_in_gap(self, home: Loc, ch: Challenger) -> bool:
        """Did the challenger's run begin in home's latest gap, or before arbitration weighs
        the tag at home again after it?"""
        return 0 < home.gap_from_ms <= ch.since_ms <= self._weighed_again_ms(home)

    def _weighed_again_ms(self, loc: Loc) -> int:
        """When arbitration weighs a tag at `loc` again after its latest gap (`2 * tau` after
        it came back: its evidence needs that long to count against the reads elsewhere)."""
        return loc.resume_ms + 2 * self._cfg.arbitration_tau_ms

    def _moved_ts(self, ch: Challenger, home_last_ms: int) -> int:
        to = self._locs[ch.location]
        dev = self._reader(to)
        return moves.moved_ts(ch, to, home_last_ms, dev.rounds_per_s, dev.span_ms, self._cfg)

    def _reader(self, loc: Loc) -> Device:
        """The reader of `loc`'s first antenna."""
        return self._devices[loc.antennas[0][0]]

    def _rounds_per_s(self, loc: Loc) -> float:
        """Inventory rounds per second of the reader of `loc`'s first antenna."""
        return self._reader(loc).rounds_per_s

    def _move(
        self, tag: Tag, kind: TagMoveKind, ts_ms: int, ch: Challenger, out: list[TagMovement]
    ) -> None:
        """Confirm the tag at the challenger's location (an arrival or a move)."""
        old, new = tag.loc, self._locs[ch.location]
        moves.relocate(tag, new, self._rounds_per_s(new), self._cfg.arbitration_tau_ms)
        from_key = old.key if old is not None else None
        out.append(moves.movement(tag, kind, ts_ms, from_key, ch, new, self._now_ms))

    # ------------------------------------------------------------------ portals
    def _close_traversals(self, out: list[TagMovement]) -> None:
        for epc, tr in portal.finished(self._traversals, self._now_ms, self._cfg):
            portal.cross(self._tags, epc, tr, out)
            self._tentative.pop(epc, None)

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
            e
            for e, t in self._tags.items()
            if t.state in _AWAY and t.last_ts_ms < horizon and e not in self._traversals
        ]
        for epc in stale:
            del self._tags[epc]

    def _forget(self, epc: str) -> None:
        """Drop a tentative tag that faded; one known in the store before (it came in through
        a portal, or departed a shelf: it has a movement) stays known, gone: on no antenna."""
        self._tentative.pop(epc, None)
        tag = self._tags.get(epc)
        if tag is None:
            return
        if tag.loc is not None:
            tag.loc.present.pop(epc, None)
        if tag.last_move_ts_ms > 0:
            tag.state, tag.loc, tag.ev = TagState.GONE, None, None
        else:
            del self._tags[epc]

    def present(self) -> Mapping[str, str]:
        """epc -> location of confirmed tags (including those whose location is not observable)."""
        return {e: t.loc.key for e, t in self._tags.items() if t.loc is not None}

    def present_at(self, location: str) -> list[str]:
        """EPCs of the tags confirmed at `location` (its own index: no scan of every tag)."""
        loc = self._locs.get(location)
        return [] if loc is None else list(loc.present)

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
        """JSON-serialisable state; `restore` rebuilds a tracker that behaves identically."""
        clocks = (self._now_ms, self._last_prune_ms)
        return rfid_snapshot.dump(
            self._tags, self._tentative, self._locs, self._devices, self._traversals, clocks
        )

    @classmethod
    def restore(
        cls, config: TrackerConfig, antennas: Sequence[AntennaSpec], snap: Mapping[str, object]
    ) -> TagTracker:
        t = cls(config, antennas)
        t._now_ms, t._last_prune_ms = rfid_snapshot.load(
            snap, t._tags, t._tentative, t._locs, t._devices, t._traversals
        )
        return t
