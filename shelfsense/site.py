"""The site file (contract §4): a store's products, locations and devices.

``load_site(text, source)`` parses YAML (or JSON), validates the structure and the references
between its parts, and raises ``SiteFileError`` whose problems point at file lines:

    demo.yaml:14: devices.0.antennas.2: location 'floor/aisle-9' is not defined
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shelfsense.domain import LocationKind
from shelfsense.ids import GtinField, IdField, LocationField, SkuField


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Product(_Model):
    sku: SkuField
    name: str = Field(min_length=1, max_length=200)
    gtin: GtinField | None = None
    unit_weight_g: float | None = Field(default=None, gt=0)
    reorder_point: int | None = Field(default=None, ge=0)
    shelf_life_days: int | None = Field(default=None, ge=0)
    expiry_lead_days: int | None = Field(default=None, ge=0)  # extension: warn this early


class Location(_Model):
    id: LocationField
    kind: LocationKind
    name: str | None = None
    sku: SkuField | None = None
    min_qty: int | None = Field(default=None, ge=0)
    capacity: int | None = Field(default=None, ge=0)


class PortalAntenna(_Model):
    location: LocationField
    side: Literal["inside", "outside"]


class RfidDevice(_Model):
    id: IdField
    gateway: IdField
    kind: Literal["rfid"]
    antennas: dict[Annotated[int, Field(ge=0, le=65535)], LocationField | PortalAntenna]

    def antenna_location(self, port: int) -> str:
        target = self.antennas[port]
        return target if isinstance(target, str) else target.location


class WeightDevice(_Model):
    id: IdField
    gateway: IdField
    kind: Literal["weight"]
    location: LocationField
    sku: SkuField
    tare_g: float = 0.0


class EnvDevice(_Model):
    id: IdField
    gateway: IdField
    kind: Literal["env"]
    location: LocationField
    temp_c: tuple[float, float] | None = None
    excursion_after_s: int = Field(default=900, ge=0)  # extension: how long out of range counts

    @model_validator(mode="after")
    def _range(self) -> EnvDevice:
        if self.temp_c is not None and self.temp_c[0] >= self.temp_c[1]:
            raise ValueError("temp_c must be [low, high] with low < high")
        return self


Device = Annotated[RfidDevice | WeightDevice | EnvDevice, Field(discriminator="kind")]


class SiteFile(_Model):
    site: IdField
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    products: list[Product] = []
    locations: list[Location] = []
    devices: list[Device] = []

    def product(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)

    def location(self, location_id: str) -> Location | None:
        return next((loc for loc in self.locations if loc.id == location_id), None)


@dataclass(frozen=True, slots=True)
class Problem:
    path: tuple[str | int, ...]
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        dotted = ".".join(str(p) for p in self.path) or "(top)"
        return f"{where}: {dotted}: {self.message}"


class SiteFileError(ValueError):
    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(p.render(source) for p in self.problems))


def load_site(text: str, source: str = "<site>") -> SiteFile:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SiteFileError(source, [Problem((), f"not valid YAML/JSON: {exc}", line)]) from exc
    try:
        site = SiteFile.model_validate(data)
    except ValidationError as exc:
        problems = [_from_pydantic(err) for err in exc.errors(include_url=False)]
        raise SiteFileError(source, _with_lines(problems, node)) from exc
    problems = list(_reference_problems(site))
    if problems:
        raise SiteFileError(source, _with_lines(problems, node))
    return site


def _from_pydantic(err: Any) -> Problem:
    # Union branches add their type name to the path; keep only the file's own keys.
    path = tuple(p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
    path = tuple(p for p in path if p not in ("rfid", "weight", "env", "str", "PortalAntenna"))
    return Problem(path, err["msg"])


def _with_lines(problems: Iterable[Problem], root: yaml.Node | None) -> list[Problem]:
    return [Problem(p.path, p.message, _line_of(root, p.path)) for p in problems]


def _line_of(node: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for key in path:
        node = _child(node, key)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == str(key):
                return v  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]  # type: ignore[no-any-return]
    return None


def _duplicates(values: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    return {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]


def _reference_problems(site: SiteFile) -> Iterable[Problem]:
    try:
        zoneinfo.ZoneInfo(site.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield Problem(("timezone",), f"unknown time zone {site.timezone!r}")
    for what, ids in (
        ("products", [p.sku for p in site.products]),
        ("locations", [loc.id for loc in site.locations]),
        ("devices", [d.id for d in site.devices]),
    ):
        for dup in sorted(_duplicates(ids)):
            yield Problem((what,), f"{dup!r} is defined more than once")
    gtins = [p.gtin for p in site.products if p.gtin]
    for dup in sorted(_duplicates(gtins)):
        yield Problem(("products",), f"GTIN {dup} belongs to more than one product")
    yield from _location_problems(site)
    for i, device in enumerate(site.devices):
        yield from _device_problems(site, i, device)


def _location_problems(site: SiteFile) -> Iterable[Problem]:
    skus = {p.sku for p in site.products}
    for i, loc in enumerate(site.locations):
        if loc.sku is not None and loc.sku not in skus:
            yield Problem(("locations", i, "sku"), f"product {loc.sku!r} is not defined")


def _device_problems(site: SiteFile, i: int, device: Any) -> Iterable[Problem]:
    kinds = {loc.id: loc.kind for loc in site.locations}
    if isinstance(device, RfidDevice):
        for port, target in device.antennas.items():
            loc = target if isinstance(target, str) else target.location
            if loc not in kinds:
                yield Problem(("devices", i, "antennas", port), f"location {loc!r} is not defined")
            elif isinstance(target, PortalAntenna) and kinds[loc] != LocationKind.PORTAL:
                yield Problem(("devices", i, "antennas", port), f"{loc!r} is not a portal")
        return
    if device.location not in kinds:
        yield Problem(("devices", i, "location"), f"location {device.location!r} is not defined")
    if isinstance(device, WeightDevice):
        product = site.product(device.sku)
        if product is None:
            yield Problem(("devices", i, "sku"), f"product {device.sku!r} is not defined")
        elif product.unit_weight_g is None:
            yield Problem(("devices", i, "sku"), f"{device.sku!r} has no unit_weight_g")
