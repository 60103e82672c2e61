"""Compare what shelfsense reports with firmware_sim's ground truth (its JSONL log)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Checkpoint:
    ts_ms: int
    stock: dict[str, int]  # "sku|location" -> qty


def checkpoints(path: Path) -> list[Checkpoint]:
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "checkpoint":
            out.append(
                Checkpoint(
                    int(record["ts"]), {k: int(v) for k, v in record["stock"].items() if int(v)}
                )
            )
    return out


def movement_times(path: Path) -> list[int]:
    """Event times of every true change of stock (items and weight-shelf units)."""
    times = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") not in ("checkpoint", "note", "excursion", "setpoint"):
            times.append(int(record["ts"]))
    return times


def cells_changing_near(path: Path, ts_ms: int, margin_ms: int = 1000) -> set[str]:
    """The "sku|location" cells with a true movement within margin_ms of ts_ms: a reader dates
    a departure between its last read and the next round it would have answered, so a movement
    that happens at a checkpoint's very moment can be reported on either side of it."""
    cells: set[str] = set()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if "sku" not in record or abs(int(record["ts"]) - ts_ms) > margin_ms:
            continue
        for key in ("from", "to", "location"):
            if record.get(key):
                cells.add(f"{record['sku']}|{record[key]}")
    return cells


def api_stock(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {f"{r['sku']}|{r['location']}": int(r["qty"]) for r in rows if int(r["qty"])}


def differences(truth: dict[str, int], seen: dict[str, int]) -> dict[str, tuple[int, int]]:
    keys = set(truth) | set(seen)
    return {
        k: (truth.get(k, 0), seen.get(k, 0))
        for k in sorted(keys)
        if truth.get(k, 0) != seen.get(k, 0)
    }
