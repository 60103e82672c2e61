"""EPC decoding: the SGTIN-96 fast path agrees with epcpy, bit for bit."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfsense.epc import _decode_with_epcpy, decode_epc, decode_sgtin96, encode_sgtin96
from shelfsense.ids import gtin_check_digit


def _gtin(body12: int, indicator: int) -> str:
    body = f"{indicator}{body12:012d}"
    return body + str(gtin_check_digit(body))


def test_contract_example_decodes_to_its_gtin() -> None:
    info = decode_epc("3034257BF7194E4000001A85")
    assert info is not None
    assert info.gtin == "80614141123458"
    assert info.serial == "6789"
    assert info.tag_uri == "urn:epc:tag:sgtin-96:1.0614141.812345.6789"


@settings(max_examples=300, deadline=None)
@given(
    body=st.integers(0, 10**12 - 1),
    indicator=st.integers(0, 9),
    serial=st.integers(0, 2**38 - 1),
    cpl=st.integers(6, 12),
)
def test_fast_path_equals_epcpy_on_valid_sgtin96(
    body: int, indicator: int, serial: int, cpl: int
) -> None:
    epc = encode_sgtin96(_gtin(body, indicator), serial, company_prefix_length=cpl)
    assert decode_sgtin96(epc) == _decode_with_epcpy(epc)


def test_fast_path_equals_epcpy_on_random_bits() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        epc = "30" + f"{rng.getrandbits(88):022X}"
        assert decode_sgtin96(epc) == _decode_with_epcpy(epc), epc


@pytest.mark.parametrize("epc", ["E2801160600002" + "0" * 10, "3" * 24, "ZZ" * 12, "30"])
def test_non_sgtin_and_garbage_are_unknown_tags(epc: str) -> None:
    assert decode_epc(epc) is None
