"""Identifiers of contract v1 §1, validated once at the boundary.

Each id is a plain ``str`` subclass whose constructor rejects bad input with ``ValueError``,
so values inside the system are known to be well formed. The ``*Field`` aliases are the same
rules for pydantic models (wire payloads, site files).
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
LOCATION_PATTERN = r"^[a-z0-9][a-z0-9_/-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)
_LOCATION_RE = re.compile(LOCATION_PATTERN)
_HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")


class _Id(str):
    pattern: ClassVar[re.Pattern[str]] = _ID_RE
    what: ClassVar[str] = "id"

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str) or not cls.pattern.fullmatch(value):
            raise ValueError(f"invalid {cls.what} {value!r}: must match {cls.pattern.pattern}")
        return super().__new__(cls, value)


class SiteId(_Id):
    what = "site id"


class GatewayId(_Id):
    what = "gateway id"


class DeviceId(_Id):
    what = "device id"


class LocationId(_Id):
    pattern = _LOCATION_RE
    what = "location id"


def gtin_check_digit(body13: str) -> int:
    """GS1 mod-10 check digit of the first 13 digits of a GTIN-14."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body13))
    return (10 - total % 10) % 10


def is_valid_gtin(value: str) -> bool:
    return len(value) == 14 and value.isdigit() and gtin_check_digit(value[:13]) == int(value[13])


class Gtin(str):
    """A GTIN-14 with a valid check digit. Shorter GTINs (8, 12, 13) are padded with zeros."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        padded = value.zfill(14) if value.isdigit() and len(value) in (8, 12, 13) else value
        if not is_valid_gtin(padded):
            raise ValueError(f"invalid GTIN {value!r}: 14 digits with a valid GS1 check digit")
        return super().__new__(cls, padded)


class Epc(str):
    """EPC bank contents as upper-case hex, 96 bits (24 hex digits) or more."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str) or len(value) < 24 or not _HEX_RE.fullmatch(value):
            raise ValueError(f"invalid EPC {value!r}: hex of 96 bits or more")
        return super().__new__(cls, value.upper())


def _check_sku(value: str) -> str:
    if not 1 <= len(value) <= 64 or not value.isprintable():
        raise ValueError("sku must be 1..64 printable characters")
    return value


def _check_gtin(value: str) -> str:
    return str(Gtin(value))


IdField = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
LocationField = Annotated[str, StringConstraints(pattern=LOCATION_PATTERN)]
SkuField = Annotated[str, AfterValidator(_check_sku)]
GtinField = Annotated[str, AfterValidator(_check_gtin)]
