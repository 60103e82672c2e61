"""The alerting, lots and cold-chain routes against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from api_world import SCALE_SHELF, SHELF1, SITE, T0, World, api_client, auth, connect

from shelfsense.epc import encode_sgtin96

pytestmark = pytest.mark.integration
TUNA_GTIN, COLA_GTIN = "08690000000012", "08690000000029"
COOLER = "floor/cooler-1"


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    with api_client(world.database_url) as client:
        client.headers.update(auth(world.operator))
        client.base_url = httpx.URL(str(client.base_url).rstrip("/") + "/api/v1/")
        yield client


def _active_id(client: httpx.Client) -> int:
    rows = client.get(f"/sites/{SITE}/alerts", params={"status": "active"}).json()
    return int(next(r["id"] for r in rows if r["type"] == "out_of_stock"))


def _events(world: World, alert_id: int) -> list[str]:
    with connect(world.database_url) as conn:
        rows = conn.execute(
            "select event from alert_events where alert_id = %s order by id", (alert_id,)
        ).fetchall()
    return [str(r[0]) for r in rows]


def test_get_ack_and_clear_write_the_outbox_once(client: httpx.Client, world: World) -> None:
    alert_id = _active_id(client)
    one = client.get(f"/sites/{SITE}/alerts/{alert_id}").json()
    assert (one["subject"], one["status"], one["events"]) == (
        f"location:{SHELF1}|sku:TUNA-160",
        "active",
        [],
    )
    acked = client.post(f"/sites/{SITE}/alerts/{alert_id}/ack")
    assert acked.status_code == 200 and acked.json()["acked_by"] == "test operator"
    assert client.post(f"/sites/{SITE}/alerts/{alert_id}/ack").json()["status"] == "acknowledged"
    cleared = client.post(f"/sites/{SITE}/alerts/{alert_id}/clear").json()
    assert (cleared["status"], cleared["cleared_by"]) == ("cleared", "test operator")
    assert [e["event"] for e in cleared["events"]] == ["acknowledged", "cleared"]
    assert client.post(f"/sites/{SITE}/alerts/{alert_id}/ack").status_code == 409
    client.post(f"/sites/{SITE}/alerts/{alert_id}/clear")
    assert _events(world, alert_id) == ["acknowledged", "cleared"]


def test_viewers_may_read_but_not_acknowledge(client: httpx.Client, world: World) -> None:
    alert_id = _active_id(client)
    viewer = auth(world.viewer)
    assert client.get(f"/sites/{SITE}/alerts/{alert_id}", headers=viewer).status_code == 200
    assert client.post(f"/sites/{SITE}/alerts/{alert_id}/ack", headers=viewer).status_code == 403
    assert client.get(f"/sites/{SITE}/alerts/999999").status_code == 404


def test_rules_are_listed_and_overridden_all_or_nothing(client: httpx.Client, world: World) -> None:
    rules = {r["key"]: r for r in client.get(f"/sites/{SITE}/alert-rules").json()}
    assert rules["low_stock"]["params"] == {
        "severity": "warning",
        "hysteresis_units": 1,
        "settle_s": 15,
        "warmup_s": 60,
    }
    body = {"low_stock": {"params": {"hysteresis_units": 3}}, "misplaced": {"enabled": False}}
    admin = auth(world.admin)
    assert client.put(f"/sites/{SITE}/alert-rules", json=body).status_code == 403
    updated = client.put(f"/sites/{SITE}/alert-rules", json=body, headers=admin)
    rules = {r["key"]: r for r in updated.json()}
    assert rules["low_stock"]["params"]["hysteresis_units"] == 3
    assert rules["misplaced"]["enabled"] is False
    bad = {"low_stock": {"params": {"hysteresis_units": 0}}, "nope": {}}
    answer = client.put(f"/sites/{SITE}/alert-rules", json=bad, headers=admin)
    assert answer.status_code == 422 and "nope" in answer.text
    rules = {r["key"]: r for r in client.get(f"/sites/{SITE}/alert-rules").json()}
    assert rules["low_stock"]["overrides"] == {"hysteresis_units": 3}, "nothing written"


def test_receive_lots_by_label_epcs_and_quantity(client: httpx.Client) -> None:
    later = date.today() + timedelta(days=1)
    epcs = [encode_sgtin96(TUNA_GTIN, s) for s in (1, 2)]
    rfid = client.post(
        f"/sites/{SITE}/lots",
        json={"gs1": f"(01){TUNA_GTIN}(10)T-1(17){later:%y%m%d}", "epcs": epcs},
    )
    assert rfid.status_code == 201, rfid.text
    assert (rfid.json()["sku"], rfid.json()["items"]) == ("TUNA-160", 2)
    weight = client.post(
        f"/sites/{SITE}/lots",
        json={
            "sku": "COLA-330",
            "lot": "C-9",
            "expiry": str(date.today() - timedelta(days=1)),
            "qty": 6,
            "location": SCALE_SHELF,
        },
    )
    assert weight.status_code == 201, weight.text
    assert weight.json()["remaining_qty"] == 6
    lots = client.get(f"/sites/{SITE}/lots").json()
    assert [lot["lot"] for lot in lots] == ["T-1", "C-9"]
    expiry = {r["lot"]: r for r in client.get(f"/sites/{SITE}/expiry").json()}
    assert expiry["C-9"]["status"] == "expired" and expiry["C-9"]["qty"] == 6
    # the shelf holds 5 cans; the expired lot says 6 were received: all 5 are past their date
    stock = {(r["sku"], r["location"]): r for r in client.get(f"/sites/{SITE}/stock").json()}
    assert stock[("COLA-330", SCALE_SHELF)]["expired_qty"] == 5
    assert all(r["expired_qty"] == 0 for k, r in stock.items() if k[0] != "COLA-330")
    assert client.get(f"/sites/{SITE}/lots/424242").status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"gs1": "(01)08690000000013(10)X(17)251231", "qty": 1, "location": SCALE_SHELF},
            "check digit",
        ),
        (
            {
                "gtin": "08690000000036",
                "lot": "X",
                "expiry": "2030-01-01",
                "qty": 1,
                "location": SCALE_SHELF,
            },
            "unknown product",
        ),
        (
            {
                "sku": "TUNA-160",
                "lot": "X",
                "expiry": "2030-01-01",
                "epcs": [encode_sgtin96(TUNA_GTIN, 5), encode_sgtin96(COLA_GTIN, 6)],
            },
            "unknown_epcs",
        ),
        (
            {
                "sku": "COLA-330",
                "lot": "X",
                "expiry": "2030-01-01",
                "qty": 2,
                "location": "floor/nowhere",
            },
            "unknown location",
        ),
        ({"sku": "COLA-330", "lot": "X", "expiry": "2030-01-01"}, "either epcs"),
    ],
)
def test_bad_receipts_are_422_and_write_nothing(
    client: httpx.Client, world: World, body: dict[str, object], expected: str
) -> None:
    answer = client.post(f"/sites/{SITE}/lots", json=body)
    assert answer.status_code == 422, answer.text
    assert expected in answer.text
    with connect(world.database_url) as conn:
        assert conn.execute("select count(*) from lots").fetchone() == (0,)
        assert conn.execute("select count(*) from lot_items").fetchone() == (0,)


def test_an_epc_joins_one_lot_only(client: httpx.Client) -> None:
    body = {
        "sku": "TUNA-160",
        "lot": "A",
        "expiry": "2030-01-01",
        "epcs": [encode_sgtin96(TUNA_GTIN, 9)],
    }
    assert client.post(f"/sites/{SITE}/lots", json=body).status_code == 201
    again = client.post(f"/sites/{SITE}/lots", json={**body, "lot": "B"})
    assert again.status_code == 422 and "epcs_in_other_lots" in again.text


def test_mean_kinetic_temperature_of_a_location(client: httpx.Client, world: World) -> None:
    with connect(world.database_url) as conn:
        for i, temp in enumerate([20.0, 30.0] * 5):
            conn.execute(
                """insert into sensor_readings (ts, site_id, device_id, location_id, temp_c)
                   values (%s, %s, 'probe-1', %s, %s)""",
                (T0 + timedelta(minutes=i), SITE, COOLER, temp),
            )
    url = f"/sites/{SITE}/locations/{COOLER}/mkt"
    span = {"since": T0.isoformat(), "until": (T0 + timedelta(hours=1)).isoformat()}
    answer = client.get(url, params=span).json()
    assert answer["readings"] == 10 and answer["mean_c"] == 25.0
    assert answer["mkt_c"] == pytest.approx(26.26, abs=0.01)
    empty = client.get(
        url, params={"since": (T0 - timedelta(days=1)).isoformat(), "until": T0.isoformat()}
    ).json()
    assert (empty["readings"], empty["mkt_c"]) == (0, None)
