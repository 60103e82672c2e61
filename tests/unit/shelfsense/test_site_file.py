"""Site files: the contract's example loads; mistakes are reported with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfsense.site import RfidDevice, SiteFileError, load_site

SMALL = (Path(__file__).resolve().parents[2] / "fixtures" / "site_small.yaml").read_text()


def _error(text: str) -> SiteFileError:
    with pytest.raises(SiteFileError) as info:
        load_site(text, "site.yaml")
    return info.value


def test_the_test_store_loads() -> None:
    site = load_site(SMALL, "site.yaml")
    assert site.site == "test-store"
    door = next(d for d in site.devices if d.id == "door-1")
    assert isinstance(door, RfidDevice)
    assert door.antenna_location(2) == "door-1"


def test_json_is_accepted_too() -> None:
    site = load_site('{"site": "s1", "name": "S", "products": [], "locations": []}', "s.json")
    assert site.site == "s1"


@pytest.mark.parametrize(
    ("old", "new", "at", "words"),
    [
        ("min_qty: 2, capacity: 24", "min_qty: -2, capacity: 24", "min_qty: -2", "greater than"),
        ('gtin: "08690000000029"', 'gtin: "08690000000028"', "028", "check digit"),
        ("2: floor/aisle-1/shelf-2", "2: floor/aisle-9/shelf-2", "aisle-9", "not defined"),
        ("kind: weight", "kind: scale", "- id: scale-1", "does not match"),
        ("timezone: UTC", "timezone: Mars/Olympus", "Mars", "unknown time zone"),
        ("sku: COLA-330\n    tare_g", "sku: FANTA\n    tare_g", "FANTA", "not defined"),
        (
            "1: {location: door-1, side: inside}",
            "1: {location: floor/cooler-1, side: inside}",
            "location: floor/cooler-1",
            "not a portal",
        ),
    ],
)
def test_mistakes_point_at_their_line(old: str, new: str, at: str, words: str) -> None:
    assert old in SMALL
    text = SMALL.replace(old, new)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if at in row)
    rendered = str(_error(text))
    assert rendered.startswith(f"site.yaml:{line}: "), rendered
    assert words in rendered


def test_duplicates_and_bad_yaml() -> None:
    dup = SMALL.replace(
        "  - {id: floor/aisle-1/shelf-2, kind: shelf}",
        "  - {id: floor/aisle-1/shelf-1, kind: shelf}",
    )
    assert "defined more than once" in str(_error(dup))
    assert "not valid YAML" in str(_error("site: [unclosed"))
    assert "extra" in str(_error(SMALL + "colour: blue\n")).lower()
