"""The store model: every action moves items between spots and says so in its truth records."""

from __future__ import annotations

import pytest

from firmware_sim.actions import Carry, Deliver, Put, Setpoint, Take, TruthKind, note
from firmware_sim.scenarios import COOLER, DOOR, OUTSIDE, STORAGE, alerts
from firmware_sim.store import SimStore, StoreError, replay
from shelfsense.epc import decode_epc

T0 = 1_763_719_200_000
SHELF = "floor/aisle-1/shelf-1"
SHELF_2 = "floor/aisle-1/shelf-2"
SCALE = "floor/aisle-2/shelf-1"


@pytest.fixture
def store() -> SimStore:
    s = SimStore(alerts().site, seed=1)
    s.place(T0, SHELF, "PASTA-500", 8)
    s.place(T0, STORAGE, "PASTA-500", 5)
    s.place(T0, SCALE, "COLA-330", 10)
    return s


def _all_records(store: SimStore, *actions: object) -> list[dict[str, object]]:
    out = []
    for a in actions:
        out += store.apply(a)  # type: ignore[arg-type]
    return out


def test_placed_items_carry_sgtin_epcs_of_their_product(store: SimStore) -> None:
    gtin = store.site.product("PASTA-500").gtin  # type: ignore[union-attr]
    epcs = store.epcs_at(SHELF)
    assert len(epcs) == 8 and len(set(store.items)) == 13
    for epc in epcs:
        info = decode_epc(epc)
        assert info is not None and info.gtin == gtin


def test_stock_counts_tagged_items_and_weight_units(store: SimStore) -> None:
    assert store.stock() == {
        "COLA-330|floor/aisle-2/shelf-1": 10,
        "PASTA-500|backroom/storage": 5,
        "PASTA-500|floor/aisle-1/shelf-1": 8,
    }


def test_a_pick_moves_items_into_the_basket_and_out_through_the_portal(store: SimStore) -> None:
    picked = store.apply(Take(T0 + 1000, "s1", SHELF, 3))
    assert [r["from"] for r in picked] == [SHELF] * 3 and {r["to"] for r in picked} == {None}
    assert store.count_at(SHELF) == 5
    inside = store.apply(Carry(T0 + 5000, "s1", f"{DOOR}#inside"))
    out = store.apply(Carry(T0 + 6500, "s1", OUTSIDE))
    assert {r["to"] for r in inside} == {f"{DOOR}#inside"} and len(out) == 3
    assert store.count_at(OUTSIDE) == 3
    assert store.actors["s1"].epcs == []
    assert "PASTA-500|outside" not in store.stock()  # outside is not stock


def test_a_take_never_takes_more_than_is_there(store: SimStore) -> None:
    records = store.apply(Take(T0, "s1", SHELF, 50))
    assert len(records) == 8 and store.count_at(SHELF) == 0
    assert store.apply(Take(T0, "s2", SHELF, 1)) == []


def test_weight_shelf_changes_are_unit_records(store: SimStore) -> None:
    [pick] = store.apply(Take(T0, "s1", SCALE, 4))
    assert pick == {
        "ts": T0,
        "kind": "pick",
        "sku": "COLA-330",
        "location": SCALE,
        "delta": -4,
        "units": 6,
    }
    [restock] = store.apply(Put(T0 + 10, "staff", SCALE, 12))
    assert restock["delta"] == 12 and restock["units"] == 18


def test_restock_takes_the_right_product_from_storage(store: SimStore) -> None:
    store.apply(Take(T0, "staff", STORAGE, 3, "PASTA-500", TruthKind.RESTOCK))
    records = store.apply(Put(T0 + 30_000, "staff", SHELF, None, "PASTA-500"))
    assert [r["kind"] for r in records] == ["restock"] * 3
    assert store.count_at(SHELF) == 11 and store.count_at(STORAGE) == 2


def test_a_delivery_creates_new_serials_outside(store: SimStore) -> None:
    store.apply(Carry(T0, "driver", OUTSIDE, TruthKind.ENTRY))
    created = store.apply(Deliver(T0, "driver", "PASTA-500", 2))
    assert {r["to"] for r in created} == {OUTSIDE} and {r["from"] for r in created} == {None}
    serials = sorted(store.items[r["epc"]].serial for r in created)
    assert serials == [14, 15]


def test_every_item_is_in_exactly_one_place(store: SimStore) -> None:
    _all_records(
        store,
        Take(T0, "a", SHELF, 2),
        Put(T0 + 1, "a", SHELF_2, 1),
        Carry(T0 + 2, "a", f"{DOOR}#inside"),
    )
    spots = [store.spot[e] for e in store.items]
    assert len(spots) == len(store.items)
    listed = sum(store.count_at(s) for s in set(spots) if s not in store.units)
    assert listed == len(store.items)


def test_replaying_the_records_gives_the_stock() -> None:
    history: list[dict[str, object]] = []
    fresh = SimStore(alerts().site, seed=2)
    history += fresh.place(T0, SHELF, "PASTA-500", 6)
    history += fresh.place(T0, SCALE, "COLA-330", 5)
    history += _all_records(
        fresh,
        Take(T0 + 1, "a", SHELF, 2),
        Take(T0 + 2, "a", SCALE, 2),
        Put(T0 + 3, "a", SHELF_2, 1, kind=TruthKind.MISPLACE),
        Carry(T0 + 4, "a", OUTSIDE),
        Setpoint(T0 + 5, COOLER, 9.0),
        note(T0 + 6, expect="x"),
    )
    assert replay(history, fresh.stock_locations()) == fresh.stock()
    assert fresh.stock()["PASTA-500|floor/aisle-1/shelf-2"] == 1


def test_unknown_locations_are_refused(store: SimStore) -> None:
    with pytest.raises(StoreError):
        store.apply(Take(T0, "a", "floor/nowhere", 1))
    with pytest.raises(StoreError):
        store.place(T0, "floor/nowhere", "PASTA-500", 1)


def test_the_same_seed_picks_the_same_items() -> None:
    def picks(seed: int) -> list[str]:
        s = SimStore(alerts().site, seed=seed)
        s.place(T0, SHELF, "PASTA-500", 20)
        return [str(r["epc"]) for r in s.apply(Take(T0, "a", SHELF, 5))]

    assert picks(3) == picks(3)
    assert picks(3) != picks(4)
