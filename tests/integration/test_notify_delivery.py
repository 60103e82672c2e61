"""The notifier against a real database and a local capture server standing in for ntfy and a
JSON webhook: what arrives, what does not, and what the delivery log says."""

from __future__ import annotations

from datetime import time

from integration.notify_world import (
    at,
    clear_alert,
    deliveries,
    notifier_thread,
    open_alert,
    processed,
    recipient,
    update_alert,
)
from support.capture import CaptureServer
from support.services import wait_for

from shelfsense.clock import ManualClock


def test_one_message_per_new_alert_none_for_an_update_and_a_resolved_on_clear(
    database_url: str,
) -> None:
    with CaptureServer() as capture, notifier_thread(database_url, public_url="https://ss.test"):
        recipient(
            database_url, "anna", [f"ntfy://{capture.base}/anna", f"json://{capture.base}/hook"]
        )
        first = open_alert(database_url, sku="TUNA-160")
        second = open_alert(database_url, sku="COLA-330")
        hits = capture.wait_for(4)
        ntfy = sorted((h.json() for h in hits if h.path == "/"), key=lambda b: b["title"])
        assert [b["title"] for b in ntfy] == [
            "[MAJOR] Out of stock: COLA-330",
            "[MAJOR] Out of stock: TUNA-160",
        ]
        assert ntfy[0]["topic"] == "anna" and ntfy[0]["priority"] == 4
        action = ntfy[0]["actions"][0]
        assert action["method"] == "POST" and action["clear"] is True
        assert action["url"].startswith(f"https://ss.test/api/v1/ack/{second}-")
        hook = [h.json() for h in hits if h.path == "/hook"]
        assert {b["alert_id"] for b in hook} == {first, second}

        same = update_alert(database_url, first, "major")
        lower = update_alert(database_url, first, "warning")
        wait_for(lambda: processed(database_url, same) and processed(database_url, lower))
        clear = clear_alert(database_url, second)
        wait_for(lambda: processed(database_url, clear))
        hits = capture.wait_for(6)
        later = [h.json() for h in hits[4:]]
        assert sorted(b["title"] for b in later) == ["Resolved: Out of stock: COLA-330"] * 2
        assert "actions" not in later[0] or later[0].get("ack_url") is None
    assert len(capture.ok_hits()) == 6  # nothing for the updates that did not raise severity
    assert {d["status"] for d in deliveries(database_url, first)} == {"sent"}


def test_a_severity_rise_is_told_once(database_url: str) -> None:
    with CaptureServer() as capture, notifier_thread(database_url):
        recipient(database_url, "anna", [f"json://{capture.base}/hook"])
        alert = open_alert(database_url, severity="warning")
        capture.wait_for(1)
        update_alert(database_url, alert, "critical")
        event = update_alert(database_url, alert, "critical")
        wait_for(lambda: processed(database_url, event))
        hits = capture.wait_for(2)
    assert [h.json()["title"] for h in hits] == [
        "[WARNING] Out of stock: TUNA-160",
        "[CRITICAL] Worse: Out of stock: TUNA-160",
    ]


def test_failures_are_retried_with_backoff_and_logged(database_url: str) -> None:
    with CaptureServer() as capture, notifier_thread(database_url, max_attempts=5):
        capture.fail_next(2)
        recipient(database_url, "anna", [f"ntfy://{capture.base}/anna"])
        alert = open_alert(database_url)
        capture.wait_for(1)
        wait_for(lambda: deliveries(database_url, alert)[0]["status"] == "sent")
    assert [h.status for h in capture.hits] == [500, 500, 200]
    gaps = [b.at_wall_s - a.at_wall_s for a, b in zip(capture.hits, capture.hits[1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09  # 0.05 s, then 0.1 s (base 0.05 s, doubling)
    (row,) = deliveries(database_url, alert)
    assert row["attempts"] == 3 and row["last_error"] is None


def test_a_channel_that_keeps_failing_is_given_up_with_its_error(database_url: str) -> None:
    with CaptureServer() as capture, notifier_thread(database_url, max_attempts=3):
        capture.answer("/down", 503)
        capture.answer("/missing", 404)
        recipient(
            database_url, "anna", [f"json://{capture.base}/down", f"json://{capture.base}/missing"]
        )
        alert = open_alert(database_url)
        wait_for(lambda: {d["status"] for d in deliveries(database_url, alert)} == {"dead"})
    down, missing = deliveries(database_url, alert)
    assert down["attempts"] == 3 and "gave up after 3 attempts: HTTP 503" in down["last_error"]
    assert missing["attempts"] == 1 and missing["last_error"].startswith("HTTP 404")
    assert (
        down["channel"] == f"json://{capture.base.split(':')[0]}:{capture.base.split(':')[1]}/***"
    )


def test_quiet_hours_hold_until_morning_but_critical_goes_through(database_url: str) -> None:
    clock = ManualClock(at("2025-11-21T23:30:00+03:00"))  # 23:30 in Istanbul
    with CaptureServer() as capture, notifier_thread(database_url, clock=clock):
        recipient(
            database_url,
            "anna",
            [f"json://{capture.base}/hook"],
            quiet=(time(22, 0), time(7, 0)),
            timezone="Europe/Istanbul",
        )
        held = open_alert(database_url, sku="TUNA-160")
        wait_for(lambda: [d["status"] for d in deliveries(database_url, held)] == ["held"])
        urgent = open_alert(database_url, severity="critical", sku="MILK-1L")
        (hit,) = capture.wait_for(1)
        assert hit.json()["alert_id"] == urgent
        clock.set(at("2025-11-22T07:00:01+03:00"))
        hits = capture.wait_for(2)
    assert [h.json()["alert_id"] for h in hits] == [urgent, held]


def test_an_alert_cleared_during_quiet_hours_is_never_sent(database_url: str) -> None:
    clock = ManualClock(at("2025-11-21T23:30:00+00:00"))
    with CaptureServer() as capture, notifier_thread(database_url, clock=clock):
        recipient(database_url, "anna", [f"json://{capture.base}/hook"], quiet=(time(22), time(7)))
        alert = open_alert(database_url)
        event = clear_alert(database_url, alert)
        wait_for(lambda: processed(database_url, event))
        clock.set(at("2025-11-22T08:00:00+00:00"))
        canary = open_alert(database_url, sku="CANARY")
        capture.wait_for(1)
    assert [h.json()["alert_id"] for h in capture.ok_hits()] == [canary]
    assert [d["status"] for d in deliveries(database_url, alert)] == ["cancelled"]


def test_low_severity_alerts_go_as_one_digest(database_url: str) -> None:
    clock = ManualClock(at("2025-11-21T10:00:01+00:00"))
    with CaptureServer() as capture, notifier_thread(database_url, clock=clock, digest_every_s=600):
        recipient(
            database_url,
            "anna",
            [f"ntfy://{capture.base}/anna"],
            min_severity="info",
            digest_severity="info",
        )
        a = open_alert(database_url, severity="info", sku="A")
        b = open_alert(database_url, severity="info", sku="B")
        wait_for(lambda: len(deliveries(database_url, a) + deliveries(database_url, b)) == 2)
        assert capture.ok_hits() == []
        clock.set(at("2025-11-21T10:10:00+00:00"))
        (hit,) = capture.wait_for(1)
    assert hit.json()["title"] == "2 alerts (digest)"
    assert "Low stock" not in hit.json()["message"] and "Out of stock: A" in hit.json()["message"]
    assert {d["status"] for d in deliveries(database_url, a) + deliveries(database_url, b)} == {
        "sent"
    }
