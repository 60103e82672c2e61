"""A shelf with an RFID antenna and a scale for the same product, through the real ingest engine
and database: weight says how many, RFID which items, and a disagreement is an alert."""

from __future__ import annotations

from itertools import groupby

import pytest
from support.alerts import events, open_alerts, scale_seconds
from support.services import apply_site_file, ingest_thread, scalar, wait_for
from support.wire import T0_MS, epc, publish, rfid

pytestmark = pytest.mark.integration

SITE = "hybrid-store"
SHELF = "floor/aisle-1/shelf-1"
MISMATCH = ("count_mismatch", f"location:{SHELF}|sku:TUNA-160")
TARE_G, UNIT_G = 1200.0, 185.0


def _seconds(
    prefix: str, start_s: int, seconds: int, tags: int, units: int
) -> list[tuple[str, bytes]]:
    """Each second one RFID batch (``tags`` tags read) and one scale batch (``units`` cans)."""
    grams = [TARE_G + UNIT_G * units] * seconds
    scale = scale_seconds(start_s, T0_MS + start_s * 1000, grams)
    msgs = []
    for i in range(seconds):
        t0 = T0_MS + (start_s + i) * 1000
        reads = [(epc(s), 1) for s in range(1, tags + 1)]
        msgs.append(
            (
                f"{prefix}/v1/{SITE}/gw-1/rfid/reader-1",
                rfid(start_s + i, t0, ants=(1,), reads=reads),
            )
        )
        msgs.append((f"{prefix}/v1/{SITE}/gw-1/weight/scale-1", scale[i]))
    return msgs


def _qty(url: str) -> object:
    return scalar(url, "select qty from stock where location_id = %s and sku = 'TUNA-160'", SHELF)


def _ledger(url: str) -> object:
    return scalar(url, "select count(*) from batch_ledger where site_id = %s", SITE)


def test_weight_counts_the_shelf_and_a_disagreement_is_an_alert(
    database_url: str, mqtt_url: str, unique_name: str
) -> None:
    apply_site_file(database_url, "site_hybrid.yaml")
    with ingest_thread(
        database_url, mqtt_url, prefix=unique_name, client_id=unique_name, catalog_poll_s=0.2
    ):
        publish(mqtt_url, _seconds(unique_name, 0, 15, tags=3, units=3))
        wait_for(lambda: _ledger(database_url) == 30, what="15 s of reads and weights")
        assert _qty(database_url) == 3
        assert scalar(database_url, "select count(*) from movements where kind = 'arrive'") == 3, (
            "the three tags arrived (as movements)"
        )
        assert MISMATCH not in open_alerts(database_url, SITE)

        # a can leaves the scale but RFID keeps reading all three tags: weight wins
        publish(mqtt_url, _seconds(unique_name, 15, 20, tags=3, units=2))
        wait_for(lambda: _ledger(database_url) == 70, what="20 s more")
        assert _qty(database_url) == 2
        assert MISMATCH not in open_alerts(database_url, SITE), "not yet 30 s of disagreement"
        publish(mqtt_url, _seconds(unique_name, 35, 15, tags=3, units=2))
        alert = wait_for(
            lambda: open_alerts(database_url, SITE).get(MISMATCH), what="a count_mismatch alert"
        )
        assert alert is not None
        assert alert["severity"] == "warning"
        assert alert["details"]["weight_units"] == 2
        assert alert["details"]["rfid_units"] == 3
        assert alert["details"]["epcs"] == sorted(epc(s) for s in (1, 2, 3))
        assert _qty(database_url) == 2

        # RFID stops reading tag 3: a departure (a movement) that leaves the qty to the scale,
        # and the two sides agree again
        publish(mqtt_url, _seconds(unique_name, 50, 20, tags=2, units=2))
        wait_for(
            lambda: (
                scalar(
                    database_url,
                    "select count(*) from movements where kind = 'depart' and epc = %s",
                    epc(3),
                )
                == 1
            ),
            what="tag 3 to depart",
        )
        wait_for(
            lambda: MISMATCH not in open_alerts(database_url, SITE), what="the mismatch to clear"
        )
    assert _qty(database_url) == 2
    with_history = scalar(
        database_url,
        "select array_agg(qty order by ts, seq) from stock_history"
        " where site_id = %s and location_id = %s and sku = 'TUNA-160'",
        SITE,
        SHELF,
    )
    assert isinstance(with_history, list)
    quantities = [q for q, _ in groupby(with_history)]  # (state changes repeat a quantity)
    assert quantities == [3, 2], "only the scale moved the quantity: no RFID +1 / -1"
    kinds = [e for _, e, t, _ in events(database_url, SITE) if t == "count_mismatch"]
    assert kinds == ["opened", "cleared"]
