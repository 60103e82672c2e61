"""Lot receipts: requests become checked receipts; every problem is listed, nothing guessed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shelfsense.epc import encode_sgtin96
from shelfsense.lots import (
    Known,
    LotError,
    LotStatus,
    expires_at_ms,
    lot_status,
    receipt_from,
    receipt_problems,
)

TODAY = date(2025, 11, 21)
GTIN = "08690000000012"
OTHER = "08690000000029"


def _ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


def test_expiry_is_local_midnight_after_the_expiry_date() -> None:
    assert expires_at_ms(date(2025, 12, 31), "UTC") == _ms(2026, 1, 1)
    assert expires_at_ms(date(2025, 12, 31), "Europe/Istanbul") == _ms(2025, 12, 31, 21)
    # New York on the day DST ends (02:00): its midnight is still EDT, 04:00 UTC
    assert expires_at_ms(date(2025, 11, 1), "America/New_York") == _ms(2025, 11, 2, 4)


def test_lot_status() -> None:
    end = _ms(2026, 1, 1)
    assert lot_status(end - 3 * 86_400_000, end, 2) == LotStatus.OK
    assert lot_status(end - 2 * 86_400_000, end, 2) == LotStatus.EXPIRING
    assert lot_status(end, end, 2) == LotStatus.EXPIRED


def test_a_scanned_label_is_enough() -> None:
    r = receipt_from(today=TODAY, gs1_text=f"(01){GTIN}(10)L1(17)251231", qty=6, location="a")
    assert (r.gtin, r.lot, r.expiry, r.qty, r.location) == (GTIN, "L1", date(2025, 12, 31), 6, "a")


def test_a_serialised_label_names_its_item() -> None:
    r = receipt_from(today=TODAY, gs1_text=f"https://id.gs1.org/01/{GTIN}/10/L1/21/77?17=251231")
    assert r.epcs == (encode_sgtin96(GTIN, 77),)


def test_explicit_fields_must_agree_with_the_label() -> None:
    with pytest.raises(LotError, match="disagrees"):
        receipt_from(
            today=TODAY, gs1_text=f"(01){GTIN}(10)L1(17)251231", lot="L2", qty=1, location="a"
        )


def test_every_shape_problem_is_listed_at_once() -> None:
    with pytest.raises(LotError) as err:
        receipt_from(today=TODAY, epcs=["xyz"], qty=0)
    text = str(err.value)
    for part in ("name the product", "lot:", "expiry:", "invalid EPC", "qty must be > 0"):
        assert part in text


def test_epcs_and_qty_are_exclusive() -> None:
    with pytest.raises(LotError, match="either epcs"):
        receipt_from(
            today=TODAY,
            sku="TUNA",
            lot="L",
            expiry=TODAY,
            epcs=[encode_sgtin96(GTIN, 1)],
            qty=1,
            location="a",
        )


def test_problems_against_the_database() -> None:
    mine, foreign = encode_sgtin96(GTIN, 1), encode_sgtin96(OTHER, 2)
    taken = encode_sgtin96(GTIN, 3)
    r = receipt_from(today=TODAY, gtin=GTIN, lot="L", expiry=TODAY, epcs=[mine, foreign, taken])
    error = receipt_problems(r, Known(("TUNA", GTIN), True, {taken: 9}))
    assert error is not None
    assert error.details == {"unknown_epcs": [foreign], "epcs_in_other_lots": [f"{taken} (lot 9)"]}
    assert receipt_problems(r, Known(None, True)) is not None
    ok = receipt_from(today=TODAY, gtin=GTIN, lot="L", expiry=TODAY, epcs=[mine])
    assert receipt_problems(ok, Known(("TUNA", GTIN), True)) is None
