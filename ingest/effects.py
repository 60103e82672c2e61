"""PURE values that the pure pipeline hands to the store: what one accepted batch changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shelfsense.domain import MovementKind, MovementSource


@dataclass(frozen=True, slots=True)
class MovementRow:
    ts_ms: int
    sku: str | None
    epc: str | None
    from_location: str | None
    to_location: str | None
    qty: int
    kind: MovementKind
    source: MovementSource
    confidence: float
    device_id: str
    evidence: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class TagPosition:
    epc: str
    sku: str | None
    location: str | None  # None: seen, then gone (or out of the store)
    since_ms: int


@dataclass(frozen=True, slots=True)
class ScaleCount:
    """What a weight shelf says now; ``units`` None while it cannot tell."""

    device_id: str
    location: str
    sku: str
    units: int | None
    ts_ms: int


@dataclass(slots=True)
class Effects:
    movements: list[MovementRow] = field(default_factory=list)
    tags: list[TagPosition] = field(default_factory=list)
    scale_counts: list[ScaleCount] = field(default_factory=list)
    unknown_epcs: list[str] = field(default_factory=list)  # non-SGTIN EPCs (counted)
    unknown_products: int = 0  # SGTINs whose GTIN is in no product of the site

    def extend(self, other: Effects) -> None:
        self.movements.extend(other.movements)
        self.tags.extend(other.tags)
        self.scale_counts.extend(other.scale_counts)
        self.unknown_epcs.extend(other.unknown_epcs)
        self.unknown_products += other.unknown_products
