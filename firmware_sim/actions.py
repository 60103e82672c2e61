"""What people and machines do in the simulated store: one frozen dataclass per action.

Every action has ``ts_ms`` (event time, epoch ms) and an ``actor`` where a person is involved.
Scenarios write scripted actions with ``ts_ms`` as an offset from the start of the run and
``at(start_ms)`` shifts them; the planner builds them with absolute times. ``SimStore.apply``
resolves an action against the state at that moment (a hand cannot take more than is there).

``TruthKind`` names what a ground-truth record stands for; movements and unit changes carry the
kind of the action that caused them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self


class TruthKind(StrEnum):
    PLACE = "place"  # initial stock, at the start of the run
    PICK = "pick"  # a shopper takes items off a location
    EXIT = "exit"  # carried towards and out through a portal
    ENTRY = "entry"  # a delivery carried in through a portal
    RESTOCK = "restock"  # staff take from storage and fill a shelf
    MOVE = "move"  # staff move items between shelves on purpose
    MISPLACE = "misplace"  # put down where the planogram says they do not belong
    SETPOINT = "setpoint"  # a cooler's thermostat (or a failure) sets a new temperature
    NOTE = "note"  # what the scenario expects (an alert that should open, a lot that expires)
    CHECKPOINT = "checkpoint"  # the true stock at ``ts``
    EXCURSION = "excursion"  # the true (noise-free) temperature left or re-entered its range


@dataclass(frozen=True, slots=True)
class _Action:
    ts_ms: int

    def at(self, start_ms: int) -> Self:
        """The same action with ``ts_ms`` taken as an offset from ``start_ms``."""
        return dataclasses.replace(self, ts_ms=start_ms + self.ts_ms)


@dataclass(frozen=True, slots=True)
class Take(_Action):
    """``actor`` takes up to ``qty`` items (of ``sku`` if given) or weight-shelf units."""

    actor: str
    location: str
    qty: int
    sku: str | None = None
    kind: TruthKind = TruthKind.PICK


@dataclass(frozen=True, slots=True)
class Put(_Action):
    """``actor`` puts carried items down (all of them when ``qty`` is None).

    On a weight shelf, units the actor does not carry come from the unobserved backroom.
    """

    actor: str
    location: str
    qty: int | None = None
    sku: str | None = None
    kind: TruthKind = TruthKind.RESTOCK


@dataclass(frozen=True, slots=True)
class Carry(_Action):
    """``actor`` walks to ``spot`` (None: away from every antenna) with everything it carries."""

    actor: str
    spot: str | None
    kind: TruthKind = TruthKind.EXIT


@dataclass(frozen=True, slots=True)
class Deliver(_Action):
    """``qty`` new tagged items of ``sku`` appear in the actor's hands, wherever it is."""

    actor: str
    sku: str
    qty: int
    kind: TruthKind = TruthKind.ENTRY


@dataclass(frozen=True, slots=True)
class Setpoint(_Action):
    """The cooler at ``location`` now pulls its air towards ``temp_c``."""

    location: str
    temp_c: float

    def record(self) -> dict[str, Any]:
        return {
            "ts": self.ts_ms,
            "kind": str(TruthKind.SETPOINT),
            "location": self.location,
            "temp_c": self.temp_c,
        }


@dataclass(frozen=True, slots=True)
class Note(_Action):
    """An expectation written into the truth log, e.g. ``{"expect": "low_stock", ...}``."""

    fields: tuple[tuple[str, Any], ...]

    def record(self) -> dict[str, Any]:
        return {"ts": self.ts_ms, "kind": str(TruthKind.NOTE), **dict(self.fields)}


Action = Take | Put | Carry | Deliver | Setpoint | Note


def note(offset_ms: int, **fields: Any) -> Note:
    return Note(offset_ms, tuple(sorted(fields.items())))
