"""GS1 element strings and Digital Link URIs: what a scanned label says, or why not."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shelfsense import gs1
from shelfsense.gs1 import GS, Gs1Data, Gs1Error, parse
from shelfsense.ids import gtin_check_digit

TODAY = date(2025, 11, 21)
GTIN = "09506000134352"


def test_bracketed_element_string() -> None:
    data = parse("(01)09506000134352(17)251231(10)ABC1(21)12345", today=TODAY)
    assert data == Gs1Data(GTIN, "ABC1", date(2025, 12, 31), "12345")


def test_unbracketed_with_fnc1_separators_and_symbology_id() -> None:
    text = f"]d201{GTIN}17251231" + "10ABC1" + GS + "2112345"
    assert parse(text, today=TODAY) == Gs1Data(GTIN, "ABC1", date(2025, 12, 31), "12345")


def test_fixed_length_ais_need_no_separator_and_order_is_free() -> None:
    text = f"10LOT-7{GS}01{GTIN}17260115"
    assert parse(text, today=TODAY) == Gs1Data(GTIN, "LOT-7", date(2026, 1, 15))


def test_digital_link_any_host_with_percent_encoding() -> None:
    uri = f"https://example.com/shop/01/{GTIN}/10/A%2FB%2D1/21/12345?17=251231&linkType=gs1:pip"
    assert parse(uri, today=TODAY) == Gs1Data(GTIN, "A/B-1", date(2025, 12, 31), "12345")


def test_digital_link_pads_a_gtin_13() -> None:
    assert parse("https://id.gs1.org/01/9506000134352", today=TODAY).gtin == GTIN


def test_day_00_is_the_last_day_of_the_month() -> None:
    assert parse(f"(01){GTIN}(17)240200", today=TODAY).expiry == date(2024, 2, 29)
    assert parse(f"(01){GTIN}(17)250400", today=TODAY).expiry == date(2025, 4, 30)


@pytest.mark.parametrize(
    ("yy", "year"),
    [("25", 2025), ("75", 2075), ("76", 1976), ("99", 1999), ("00", 2000), ("74", 2074)],
)
def test_century_rule(yy: str, year: int) -> None:
    """GS1 GenSpecs 7.12: up to 50 years ahead is this century, 51 or more the previous one."""
    assert parse(f"(17){yy}0101", today=TODAY).expiry == date(year, 1, 1)


def test_century_rule_wraps_forward_near_the_end_of_a_century() -> None:
    assert gs1.parse_yymmdd("050101", today=date(2098, 6, 1)) == date(2105, 1, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("(01)09506000134353", "check digit"),
        ("(01)0950600013435", "14 characters"),
        ("(17)251331", "month 13"),
        ("(17)250231", "day 31"),
        ("(99)ABC", "unsupported application identifier (99)"),
        ("(10)", "1..20"),
        ("(10)ABC DEF", "character set"),
        ("(01)09506000134352junk", "14 characters, got 18"),
        ("(01)09506000134352)", "unexpected text"),
        ("0109506000134352172512", "needs 6 characters"),
        ("https://id.gs1.org/10/ABC", "no /01/"),
        ("https://id.gs1.org/01/09506000134352/10", "pairs"),
        ("(10)A(10)B", "twice"),
        ("(17)25AB01", "digits"),
    ],
)
def test_malformed_strings_raise_clear_errors(text: str, message: str) -> None:
    with pytest.raises(Gs1Error) as err:
        parse(text, today=TODAY)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)


_LOT_CHARS = "!\"%&'*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@st.composite
def labels(draw: st.DrawFn, *, brackets: bool) -> Gs1Data:
    body = draw(st.text("0123456789", min_size=13, max_size=13))
    alphabet = _LOT_CHARS if brackets else _LOT_CHARS + "()"
    lot = draw(st.none() | st.text(alphabet, min_size=1, max_size=20))
    serial = draw(st.none() | st.text(alphabet, min_size=1, max_size=20))
    expiry = draw(st.none() | st.dates(date(1976, 1, 1), date(2075, 12, 31)))
    return Gs1Data(body + str(gtin_check_digit(body)), lot, expiry, serial)


@given(labels(brackets=True))
def test_bracketed_round_trip(data: Gs1Data) -> None:
    assert parse(gs1.format_element_string(data), today=TODAY) == data


@given(labels(brackets=False))
def test_unbracketed_round_trip(data: Gs1Data) -> None:
    text = gs1.format_element_string(data, bracketed=False)
    assert parse(text, today=TODAY) == data


@given(labels(brackets=False), st.sampled_from(["https://id.gs1.org", "http://shop.example/dl"]))
def test_digital_link_round_trip(data: Gs1Data, host: str) -> None:
    assert parse(gs1.format_digital_link(data, host=host), today=TODAY) == data
