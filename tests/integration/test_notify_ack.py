"""Escalation and the signed acknowledgement link, through the real API and notifier."""

from __future__ import annotations

import httpx
from integration.api_world import served_api
from integration.notify_world import deliveries, notifier_thread, open_alert, recipient, rows
from support.capture import CaptureServer
from support.services import wait_for

from shelfsense.clock import ManualClock, SystemClock


def test_unacknowledged_alerts_escalate_to_the_next_level(database_url: str) -> None:
    clock = ManualClock()
    with (
        CaptureServer() as capture,
        notifier_thread(database_url, clock=clock, escalation_delays_s=(60.0,)),
    ):
        recipient(database_url, "anna", [f"json://{capture.base}/staff"])
        recipient(database_url, "boss", [f"json://{capture.base}/manager"], level=2)
        alert = open_alert(database_url)
        capture.wait_for(1, path="/staff")
        clock.advance(60_000)
        (hit,) = capture.wait_for(1, path="/manager")
    assert hit.json()["title"] == "[MAJOR] Unacknowledged: Out of stock: TUNA-160"
    assert hit.json()["kind"] == "escalation"
    events = rows(
        database_url, "select event, payload from alert_events where alert_id = %s", alert
    )
    assert [e[0] for e in events] == ["opened", "escalated"]
    assert events[1][1]["level"] == 2
    assert len(capture.ok_hits("/manager")) == 1  # escalated once, not on every tick


def test_the_ack_link_works_once_and_stops_escalation(database_url: str) -> None:
    clock = ManualClock(SystemClock().now_ms())  # links expire by the API's real clock
    with (
        served_api(database_url) as api,
        CaptureServer() as capture,
        notifier_thread(database_url, clock=clock, public_url=api, escalation_delays_s=(60.0,)),
    ):
        anna = recipient(database_url, "anna", [f"ntfy://{capture.base}/staff"])
        recipient(database_url, "boss", [f"json://{capture.base}/manager"], level=2)
        acked = open_alert(database_url, sku="TUNA-160")
        ignored = open_alert(database_url, sku="COLA-330")
        hits = capture.wait_for(2, path="/")
        by_alert = {h.json()["title"]: h.json() for h in hits}
        ack_url = by_alert["[MAJOR] Out of stock: TUNA-160"]["actions"][0]["url"]

        page = httpx.get(ack_url)
        assert page.status_code == 200 and "<form method=post" in page.text
        first = httpx.post(ack_url)
        assert first.status_code == 200, first.text
        assert first.json() == {"status": "acknowledged", "alert_id": acked, "acked_by": "anna"}
        second = httpx.post(ack_url)
        assert second.status_code == 410 and second.json()["status"] == "already acknowledged"
        forged = httpx.post(ack_url[:-3] + "AAA")
        assert forged.status_code == 404

        wait_for(
            lambda: rows(
                database_url,
                "select 1 from notify_processed p join alert_events "
                "e on e.id = p.alert_event_id where e.event = "
                "'acknowledged'",
            )
        )
        clock.advance(61_000)
        (escalated,) = capture.wait_for(1, path="/manager")
    assert escalated.json()["alert_id"] == ignored  # the acknowledged one never escalated
    alert = rows(database_url, "select status, acked_by from alerts where id = %s", acked)
    assert alert == [("acknowledged", "anna")]
    events = rows(
        database_url, "select event, payload from alert_events where alert_id = %s", acked
    )
    assert [e[0] for e in events] == ["opened", "acknowledged"]
    assert events[1][1] == {"by": "anna", "recipient_id": anna, "via": "link"}
    assert [d["kind"] for d in deliveries(database_url, acked)] == ["alert"]
