"""Lots and expiry, shared by the API (``POST /sites/{site}/lots``), the CLI and ingest.

A lot is one receipt of one product with a lot code and an expiry date. RFID items join a lot by
EPC (``lot_items``); weight-shelf items by quantity at a location (``lots.remaining_qty``, which
ingest lowers first-expiry-first-out as the shelf is picked).

Expiry instant: a lot is sellable through its expiry date and expires at the store's local
midnight at the end of that date (``expires_at_ms``; DST-aware via the site's time zone).

Receiving is all-or-nothing. ``receipt_from`` turns the request (explicit fields and/or a GS1
element string or Digital Link) into a ``Receipt``; ``receipt_problems`` checks it against what
the database knows and lists every problem at once (unknown GTIN or sku, EPCs of another
product or already in a lot, an unknown location); only a receipt with no problems is written,
in one transaction (``receive_lot`` here for sync connections; the API runs the same SQL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from shelfsense import gs1
from shelfsense.epc import decode_epc, encode_sgtin96
from shelfsense.ids import Epc, Gtin

_DAY_MS = 86_400_000
_T = TypeVar("_T")


class LotStatus(StrEnum):
    OK = "ok"
    EXPIRING = "expiring"
    EXPIRED = "expired"


def expires_at_ms(expiry: date, timezone: str) -> int:
    """Epoch ms of local midnight at the end of ``expiry`` in ``timezone``."""
    local = datetime.combine(expiry + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    return int(local.astimezone(UTC).timestamp() * 1000)


def lot_status(now_ms: int, expires_ms: int, lead_days: int) -> LotStatus:
    if now_ms >= expires_ms:
        return LotStatus.EXPIRED
    if now_ms >= expires_ms - lead_days * _DAY_MS:
        return LotStatus.EXPIRING
    return LotStatus.OK


class LotError(ValueError):
    """A receipt that cannot be written; ``problems`` lists every reason, ``details`` the ids."""

    def __init__(self, problems: Sequence[str], details: Mapping[str, list[str]] | None = None):
        self.problems = list(problems)
        self.details = dict(details or {})
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Receipt:
    sku: str | None
    gtin: str | None
    lot: str
    expiry: date
    epcs: tuple[str, ...] = ()
    qty: int | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Known:
    """What the database says about a receipt's references."""

    product: tuple[str, str | None] | None  # (sku, gtin) of the product found
    location_exists: bool
    epc_lots: Mapping[str, int] = field(default_factory=dict)  # EPCs already in a lot


def receipt_from(
    *,
    today: date,
    gs1_text: str | None = None,
    sku: str | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    expiry: date | None = None,
    epcs: Sequence[str] = (),
    qty: int | None = None,
    location: str | None = None,
) -> Receipt:
    """Explicit fields win where they agree with the label; a conflict is an error."""
    label = gs1.parse(gs1_text, today=today) if gs1_text else gs1.Gs1Data()
    problems: list[str] = []
    gtin = _merge("gtin", _gtin(gtin, problems), label.gtin, problems)
    lot = _merge("lot", lot, label.lot, problems)
    expiry = _merge("expiry", expiry, label.expiry, problems)
    epc_list = _epcs(epcs, problems)
    if not epc_list and qty is None and label.serial is not None:
        epc_list = _serial_epc(gtin, label.serial, problems)
    problems += _shape_problems(sku, gtin, lot, expiry, epc_list, qty, location)
    if problems:
        raise LotError(problems)
    assert lot is not None and expiry is not None
    return Receipt(sku, gtin, lot, expiry, tuple(epc_list), qty, location)


def _gtin(value: str | None, problems: list[str]) -> str | None:
    if value is None:
        return None
    try:
        return str(Gtin(value))
    except ValueError as exc:
        problems.append(str(exc))
        return None


def _merge(name: str, given: _T | None, label: _T | None, problems: list[str]) -> _T | None:
    if given is not None and label is not None and given != label:
        problems.append(f"{name} {given!r} disagrees with the label's {label!r}")
    return given if given is not None else label


def _epcs(epcs: Sequence[str], problems: list[str]) -> list[str]:
    out: list[str] = []
    for raw in epcs:
        try:
            epc = str(Epc(raw.strip()))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if epc not in out:
            out.append(epc)
    return out


def _serial_epc(gtin: str | None, serial: str, problems: list[str]) -> list[str]:
    """A single item's label (01 + 21): its SGTIN-96 (7-digit company prefix assumed)."""
    if gtin is None or not serial.isdigit():
        problems.append(f"serial {serial!r}: only numeric serials map to an SGTIN-96 EPC")
        return []
    return [encode_sgtin96(gtin, int(serial))]


def _shape_problems(
    sku: str | None,
    gtin: str | None,
    lot: str | None,
    expiry: date | None,
    epcs: Sequence[str],
    qty: int | None,
    location: str | None,
) -> list[str]:
    problems = []
    if sku is None and gtin is None:
        problems.append("name the product: sku, gtin, or a GS1 string with (01)")
    if not lot or len(lot) > 64 or not lot.isprintable():
        problems.append("lot: 1..64 printable characters (or AI 10 in the GS1 string)")
    if expiry is None:
        problems.append("expiry: a date YYYY-MM-DD (or AI 17 in the GS1 string)")
    if bool(epcs) == (qty is not None):
        problems.append("give either epcs (RFID items) or qty with location (weight shelf)")
    if qty is not None and (qty <= 0 or location is None):
        problems.append("qty must be > 0 and needs a location")
    return problems


def receipt_problems(receipt: Receipt, known: Known) -> LotError | None:
    """Every reason the receipt cannot be written (None: write it)."""
    if known.product is None:
        what = f"sku {receipt.sku!r}" if receipt.sku else f"GTIN {receipt.gtin}"
        return LotError([f"unknown product: {what} is not in the site"], {"unknown": [what]})
    sku, gtin = known.product
    problems: list[str] = []
    details: dict[str, list[str]] = {}
    if receipt.sku and receipt.gtin and (sku, gtin) != (receipt.sku, receipt.gtin):
        problems.append(f"sku {receipt.sku!r} and GTIN {receipt.gtin} are different products")
    foreign = [e for e in receipt.epcs if _gtin_of(e) != gtin]
    if foreign:
        problems.append(f"{len(foreign)} EPCs are not SGTINs of {sku} (GTIN {gtin})")
        details["unknown_epcs"] = foreign
    taken = [f"{e} (lot {known.epc_lots[e]})" for e in receipt.epcs if e in known.epc_lots]
    if taken:
        problems.append(f"{len(taken)} EPCs already belong to a lot")
        details["epcs_in_other_lots"] = taken
    if receipt.location is not None and not known.location_exists:
        problems.append(f"unknown location {receipt.location!r}")
        details["unknown_locations"] = [receipt.location]
    return LotError(problems, details) if problems else None


def _gtin_of(epc: str) -> str | None:
    info = decode_epc(epc)
    return info.gtin if info else None


# -- SQL (run by the API's async and the CLI's sync connections) ------------------------------
PRODUCT_SQL = """select sku, gtin from products where site_id = %(site)s and active
    and (sku = %(sku)s or (%(sku)s::text is null and gtin = %(gtin)s))"""
LOCATION_SQL = "select 1 from locations where site_id = %(site)s and location_id = %(location)s"
EPC_LOTS_SQL = "select epc, lot_id from lot_items where site_id = %(site)s and epc = any(%(epcs)s)"
INSERT_LOT_SQL = """insert into lots (site_id, sku, gtin, lot_code, expiry_date, received_qty,
    remaining_qty, location_id) values (%(site)s, %(sku)s, %(gtin)s, %(lot)s, %(expiry)s,
    %(received)s, %(qty)s, %(location)s) returning lot_id"""
INSERT_ITEMS_SQL = """insert into lot_items (site_id, epc, lot_id)
    select %(site)s, epc, %(lot_id)s from unnest(%(epcs)s::text[]) as e(epc)"""


def lookup_params(site: str, receipt: Receipt) -> dict[str, Any]:
    return {
        "site": site,
        "sku": receipt.sku,
        "gtin": receipt.gtin,
        "location": receipt.location,
        "epcs": list(receipt.epcs),
    }


def insert_params(site: str, receipt: Receipt, sku: str, gtin: str | None) -> dict[str, Any]:
    received = len(receipt.epcs) if receipt.epcs else receipt.qty
    return {
        "site": site,
        "sku": sku,
        "gtin": gtin,
        "lot": receipt.lot,
        "expiry": receipt.expiry,
        "received": received,
        "qty": receipt.qty,
        "location": receipt.location,
        "epcs": list(receipt.epcs),
    }


def receive_lot(conn: Any, site: str, receipt: Receipt) -> int:
    """Write a checked receipt in one transaction (sync psycopg); LotError: nothing written."""
    with conn.transaction():
        params = lookup_params(site, receipt)
        product = conn.execute(PRODUCT_SQL, params).fetchone()
        located = receipt.location is None or conn.execute(LOCATION_SQL, params).fetchone()
        owners = {str(e): int(i) for e, i in conn.execute(EPC_LOTS_SQL, params).fetchall()}
        known = Known((str(product[0]), product[1]) if product else None, bool(located), owners)
        error = receipt_problems(receipt, known)
        if error is not None:
            raise error
        assert known.product is not None
        insert = insert_params(site, receipt, *known.product)
        (lot_id,) = conn.execute(INSERT_LOT_SQL, insert).fetchone()
        if receipt.epcs:
            conn.execute(INSERT_ITEMS_SQL, {**insert, "lot_id": lot_id})
    return int(lot_id)
