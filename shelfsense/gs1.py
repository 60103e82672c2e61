"""PURE parser for what a scanned GS1 label says: element strings and Digital Link URIs.

Three input forms give the same ``Gs1Data``:

    (01)09506000134352(17)251231(10)ABC1(21)12345          bracketed (human-readable) form
    ]d2 01095060001343521725123110ABC1<GS>2112345           unbracketed, FNC1 = GS (\\x1d)
    https://id.gs1.org/01/09506000134352/10/ABC1/21/12345?17=251231     Digital Link (any host)

Only the application identifiers (AIs) in ``_AIS`` are understood; their length rules follow the
GS1 General Specifications (fixed-length AIs need no separator; a variable-length one ends at a
GS or at the end). AI 17 (expiry, YYMMDD) uses the GS1 century rule relative to ``today``
(a two-digit year more than 50 years ahead is in the previous century, 50 or more years behind
in the next), and DD = 00 means the last day of the month. GTINs (AI 01) must carry a valid
check digit; 8-, 12- and 13-digit GTINs in a Digital Link are padded to 14 digits.

Every problem raises ``Gs1Error`` (a ``ValueError``) whose message names the AI and the reason.
``format_element_string`` and ``format_digital_link`` write the forms back (for tests and labels).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from shelfsense.ids import gtin_check_digit, is_valid_gtin

GS = "\x1d"
_SYMBOLOGY_IDS = ("]C1", "]e0", "]d2", "]Q3", "]J1")
# GS1 AI encodable character set 82 (variable-length alphanumeric AIs)
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
_DL_ALIASES = {"gtin": "01", "lot": "10", "ser": "21", "exp": "17"}


@dataclass(frozen=True, slots=True)
class _Ai:
    code: str
    title: str
    length: int  # fixed length, or the maximum for a variable-length AI
    fixed: bool
    numeric: bool


_AIS: Mapping[str, _Ai] = {
    a.code: a
    for a in (
        _Ai("00", "SSCC", 18, True, True),
        _Ai("01", "GTIN", 14, True, True),
        _Ai("02", "CONTENT", 14, True, True),
        _Ai("10", "BATCH/LOT", 20, False, False),
        _Ai("11", "PROD DATE", 6, True, True),
        _Ai("13", "PACK DATE", 6, True, True),
        _Ai("15", "BEST BEFORE", 6, True, True),
        _Ai("16", "SELL BY", 6, True, True),
        _Ai("17", "USE BY", 6, True, True),
        _Ai("20", "VARIANT", 2, True, True),
        _Ai("21", "SERIAL", 20, False, False),
        _Ai("22", "CPV", 20, False, False),
        _Ai("30", "VAR. COUNT", 8, False, True),
        _Ai("37", "COUNT", 8, False, True),
    )
}


class Gs1Error(ValueError):
    """The text is not a GS1 element string or Digital Link we can read; the message says why."""


@dataclass(frozen=True, slots=True)
class Gs1Data:
    gtin: str | None = None  # AI 01, 14 digits
    lot: str | None = None  # AI 10
    expiry: date | None = None  # AI 17
    serial: str | None = None  # AI 21
    other: Mapping[str, str] = field(default_factory=dict)  # further AIs, raw values

    def require_gtin(self) -> str:
        if self.gtin is None:
            raise Gs1Error("the label has no GTIN (AI 01)")
        return self.gtin


def parse(text: str, *, today: date) -> Gs1Data:
    """Any of the three forms; ``today`` resolves the century of two-digit years."""
    stripped = text.strip()
    if not stripped:
        raise Gs1Error("empty GS1 string")
    if re.match(r"^https?://", stripped, re.IGNORECASE):
        pairs = list(_digital_link_pairs(stripped))
    elif stripped.startswith("("):
        pairs = list(_bracketed_pairs(stripped))
    else:
        pairs = list(_unbracketed_pairs(stripped))
    return _build(pairs, today)


# -- the three syntaxes -> (ai, value) pairs -------------------------------------------------
def _ai(code: str) -> _Ai:
    ai = _AIS.get(code)
    if ai is None:
        raise Gs1Error(f"unsupported application identifier ({code})")
    return ai


def _bracketed_pairs(text: str) -> Iterator[tuple[str, str]]:
    pos = 0
    for m in re.finditer(r"\((\d{2,4})\)([^()]*)", text):
        if m.start() != pos:
            raise Gs1Error(f"unexpected text {text[pos : m.start()]!r} at position {pos}")
        pos = m.end()
        yield m.group(1), m.group(2)
    if pos != len(text):
        raise Gs1Error(f"unexpected text {text[pos:]!r} at position {pos}: expected (AI)value")


def _unbracketed_pairs(text: str) -> Iterator[tuple[str, str]]:
    for sid in _SYMBOLOGY_IDS:
        text = text.removeprefix(sid)
    text = text.lstrip(GS)
    pos = 0
    while pos < len(text):
        code = text[pos : pos + 2]
        ai = _ai(code)
        start = pos + 2
        if ai.fixed:
            end = start + ai.length
            if end > len(text):
                raise Gs1Error(f"({code}) needs {ai.length} characters, got {len(text) - start}")
            yield code, text[start:end]
            pos = end
        else:
            gs = text.find(GS, start)
            end = len(text) if gs < 0 else gs
            yield code, text[start:end]
            pos = end + 1 if gs >= 0 else end
        if pos < len(text) and text[pos] == GS:
            pos += 1  # a separator after a fixed-length AI is allowed


def _digital_link_pairs(uri: str) -> Iterator[tuple[str, str]]:
    parts = urlsplit(uri)
    segments = [s for s in parts.path.split("/") if s]
    keys = [i for i, s in enumerate(segments) if _DL_ALIASES.get(s, s) == "01"]
    if not keys:
        raise Gs1Error(f"Digital Link {uri!r} has no /01/{{gtin}} path segment")
    path = segments[keys[0] :]
    if len(path) % 2:
        raise Gs1Error(f"Digital Link path {parts.path!r} must be /AI/value pairs")
    for i in range(0, len(path), 2):
        code = _DL_ALIASES.get(path[i], path[i])
        value = unquote(path[i + 1])
        yield code, value.zfill(14) if code == "01" and value.isdigit() else value
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        code = _DL_ALIASES.get(key, key)
        if code.isdigit():  # other query parameters (linkType, ...) are not data
            yield code, value


# -- values ----------------------------------------------------------------------------------
def _build(pairs: list[tuple[str, str]], today: date) -> Gs1Data:
    if not pairs:
        raise Gs1Error("no application identifiers found")
    values: dict[str, str] = {}
    for code, value in pairs:
        _check_value(_ai(code), value)
        if code in values and values[code] != value:
            raise Gs1Error(f"({code}) appears twice with different values")
        values[code] = value
    gtin = values.pop("01", None)
    if gtin is not None and not is_valid_gtin(gtin):
        raise Gs1Error(f"(01) {gtin} has a wrong check digit (expected {_check(gtin)})")
    expiry = values.pop("17", None)
    return Gs1Data(
        gtin=gtin,
        lot=values.pop("10", None),
        expiry=parse_yymmdd(expiry, today=today) if expiry is not None else None,
        serial=values.pop("21", None),
        other=values,
    )


def _check(gtin: str) -> int:
    return gtin_check_digit(gtin[:13])


def _check_value(ai: _Ai, value: str) -> None:
    what = f"({ai.code}) {ai.title}"
    if ai.fixed and len(value) != ai.length:
        raise Gs1Error(f"{what} must be {ai.length} characters, got {len(value)}: {value!r}")
    if not ai.fixed and not 1 <= len(value) <= ai.length:
        raise Gs1Error(f"{what} must be 1..{ai.length} characters, got {len(value)}")
    if ai.numeric and not value.isdigit():
        raise Gs1Error(f"{what} must be digits: {value!r}")
    if not ai.numeric and not _CSET82.match(value):
        raise Gs1Error(f"{what} has characters outside the GS1 character set: {value!r}")


def parse_yymmdd(value: str, *, today: date) -> date:
    """GS1 date: century by the GS1 rule around ``today``; DD = 00 is the month's last day."""
    if len(value) != 6 or not value.isdigit():
        raise Gs1Error(f"date {value!r} must be YYMMDD")
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    year = _century_year(yy, today.year)
    if not 1 <= mm <= 12:
        raise Gs1Error(f"date {value!r}: month {mm:02d} does not exist")
    last = calendar.monthrange(year, mm)[1]
    if dd == 0:
        dd = last
    if dd > last:
        raise Gs1Error(f"date {value!r}: day {dd:02d} does not exist in {year}-{mm:02d}")
    return date(year, mm, dd)


def _century_year(yy: int, current_year: int) -> int:
    century, current_yy = divmod(current_year, 100)
    diff = yy - current_yy
    if diff >= 51:
        century -= 1
    elif diff <= -50:
        century += 1
    return century * 100 + yy


# -- writing ---------------------------------------------------------------------------------
def _pairs_of(data: Gs1Data) -> list[tuple[str, str]]:
    pairs = [("01", data.gtin)] if data.gtin else []
    if data.expiry is not None:
        pairs.append(("17", data.expiry.strftime("%y%m%d")))
    pairs += [(code, v) for code, v in (("10", data.lot), ("21", data.serial)) if v is not None]
    return pairs + sorted(data.other.items())


def format_element_string(data: Gs1Data, *, bracketed: bool = True) -> str:
    """Fixed-length AIs first; unbracketed: GS after every variable-length value but the last."""
    pairs = _pairs_of(data)
    if bracketed:
        return "".join(f"({code}){value}" for code, value in pairs)
    out = []
    for i, (code, value) in enumerate(pairs):
        last = i == len(pairs) - 1
        out.append(code + value + ("" if _AIS[code].fixed or last else GS))
    return "".join(out)


def format_digital_link(data: Gs1Data, *, host: str = "https://id.gs1.org") -> str:
    """``{host}/01/{gtin}[/10/{lot}][/21/{serial}]`` with other AIs as query parameters."""
    path = f"/01/{data.require_gtin()}"
    for code, value in (("10", data.lot), ("21", data.serial)):
        if value is not None:
            path += f"/{code}/{quote(value, safe='')}"
    query = [(c, v) for c, v in _pairs_of(data) if c not in ("01", "10", "21")]
    qs = "&".join(f"{c}={quote(v, safe='')}" for c, v in query)
    return host.rstrip("/") + path + (f"?{qs}" if qs else "")
