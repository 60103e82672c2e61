"""EPC decoding (epcpy) and SGTIN-96 encoding.

``decode_epc`` maps EPC-bank hex to the product's GTIN-14 and serial for SGTIN-96/198 tags and
to ``None`` for anything else ("unknown tags": counted, never an error). Results are cached:
a store reads the same tags many thousand times a minute.
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


@lru_cache(maxsize=1 << 20)
def decode_epc(epc_hex: str) -> SgtinInfo | None:
    """GTIN and serial of an SGTIN EPC; None for other schemes or malformed bits."""
    if epc_hex[:2] not in _SGTIN_HEADERS:
        return None
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
