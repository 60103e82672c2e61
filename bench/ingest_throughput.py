"""Raw RFID reads per second through the real chain: Mosquitto -> ingest -> PostgreSQL.

Prints one table: a plain subscriber's rate on the same broker (the ceiling), then the ingest
service's sustained end-to-end rate (reads committed to the database per second), with the
ingest process's memory sampled over the run.

    .venv/bin/python bench/ingest_throughput.py            # 60 s of load
    .venv/bin/python bench/ingest_throughput.py --seconds 600
    .venv/bin/python bench/ingest_throughput.py --quick    # smoke run, ~15 s

The load: READERS readers with 4 antennas each, every antenna watching its shelf of tags; one
columnar batch per reader per second of event time; event time runs as fast as the publisher
can publish.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from shelfsense.db.migrate import upgrade
from shelfsense.db.sites import apply_site
from shelfsense.epc import encode_sgtin96
from shelfsense.ids import gtin_check_digit
from shelfsense.runtime import MosquittoBroker, PostgresCluster
from shelfsense.settings import MqttUrl
from shelfsense.site import load_site

T0_MS = (int(time.time() * 1000) // 86_400_000 - 1) * 86_400_000  # yesterday: inside retention
PREFIX = "bench"


def gtin(i: int) -> str:
    body = f"0869{i:09d}"
    return body + str(gtin_check_digit(body))


def site_yaml(readers: int, products: int) -> str:
    lines = ["site: bench", "name: Bench", "products:"]
    lines += [f"  - {{sku: P{i}, name: Product {i}, gtin: '{gtin(i)}'}}" for i in range(products)]
    lines.append("locations:")
    for r in range(readers):
        lines += [f"  - {{id: shelf-{r}-{a}, kind: shelf}}" for a in range(1, 5)]
    lines.append("devices:")
    for r in range(readers):
        ants = ", ".join(f"{a}: shelf-{r}-{a}" for a in range(1, 5))
        lines.append(
            f"  - {{id: reader-{r}, gateway: gw-{r % 4}, kind: rfid, antennas: {{{ants}}}}}"
        )
    return "\n".join(lines) + "\n"


def make_batches(readers: int, tags_per_antenna: int, seconds: int) -> Iterator[tuple[str, bytes]]:
    """The load, generated as it is published (a 10-minute run would not fit in memory)."""
    epcs = {
        (r, a): [
            encode_sgtin96(gtin((r * 4 + a + k) % 50), r * 100_000 + a * 10_000 + k)
            for k in range(tags_per_antenna)
        ]
        for r in range(readers)
        for a in range(1, 5)
    }
    for s in range(seconds):
        t0 = T0_MS + s * 1000
        for r in range(readers):
            col_epc, col_ant = [], []
            for a in range(1, 5):
                col_epc += epcs[(r, a)]
                col_ant += [a] * tags_per_antenna
            size = len(col_epc)
            body = {
                "v": 1,
                "seq": s,
                "t0": t0,
                "t1": t0 + 1000,
                "ants": [1, 2, 3, 4],
                "cols": {
                    "epc": col_epc,
                    "ant": col_ant,
                    "rssi": [-55.0] * size,
                    "ts": [t0 + 500] * size,
                    "n": [3] * size,
                },
            }
            yield (
                f"{PREFIX}/v1/bench/gw-{r % 4}/rfid/reader-{r}",
                json.dumps(body, separators=(",", ":")).encode(),
            )


def publish_all(
    url: MqttUrl, batches: Iterable[tuple[str, bytes]], max_inflight: int = 1000
) -> float:
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id="bench-publisher"
    )
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(0)
    window = threading.Semaphore(max_inflight)
    client.on_publish = lambda *a: window.release()
    client.connect(url.host, url.port)
    client.loop_start()
    started = time.monotonic()
    for topic, payload in batches:
        window.acquire()
        client.publish(topic, payload, qos=1)
    for _ in range(max_inflight):
        window.acquire()
    elapsed = time.monotonic() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def plain_subscriber_rate(url: MqttUrl, batches: list[tuple[str, bytes]], reads_per: int) -> float:
    """Reads/s a subscriber that only counts messages sees on the same broker (the ceiling)."""
    done = threading.Event()
    got = [0]
    first: list[float] = []

    def on_message(*_: object) -> None:
        if not first:
            first.append(time.monotonic())
        got[0] += 1
        if got[0] == len(batches):
            done.set()

    sub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="bench-plain",
        protocol=mqtt.MQTTv5,
    )
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(url.host, url.port)
    sub.loop_start()
    sub.subscribe(f"{PREFIX}/v1/#", qos=1)
    subscribed.wait(10)
    started = time.monotonic()
    publish_all(url, batches)
    done.wait(600)
    elapsed = time.monotonic() - started
    sub.disconnect()
    sub.loop_stop()
    return got[0] * reads_per / elapsed


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def committed_reads(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("select coalesce(sum(items), 0) from batch_ledger").fetchone()
    return int(row[0]) if row else 0


def run_ingest_phase(
    db_url: str,
    url: MqttUrl,
    broker_url: str,
    load: Iterable[tuple[str, bytes]],
    total_reads: int,
    workdir: Path,
) -> dict[str, object]:
    env = {
        **os.environ,
        "SHELFSENSE_DATABASE_URL": db_url,
        "SHELFSENSE_MQTT_URL": broker_url,
        "SHELFSENSE_MQTT_PREFIX": PREFIX,
    }
    log = (workdir / "ingest.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shelfsense.cli",
            "ingest",
            "--client-id",
            "bench-ingest",
            "--log-level",
            "WARNING",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    time.sleep(3.0)  # let it subscribe (its persistent session queues what comes after)
    rss = [rss_mb(proc.pid)]
    started = time.monotonic()
    publisher = threading.Thread(target=publish_all, args=(url, load), daemon=True)
    publisher.start()
    while committed_reads(db_url) < total_reads:
        time.sleep(2.0)
        rss.append(rss_mb(proc.pid))
        if time.monotonic() - started > 3600:
            break
    elapsed = time.monotonic() - started
    proc.terminate()
    proc.wait(30)
    log.close()
    return {
        "seconds": elapsed,
        "reads_per_s": committed_reads(db_url) / elapsed,
        # after 30 s of warm-up (every tag seen), then the middle and the end of the run
        "rss_start_mb": rss[min(15, len(rss) - 1)],
        "rss_mid_mb": rss[len(rss) // 2],
        "rss_end_mb": rss[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="event-time seconds of load")
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--tags-per-antenna", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.readers, args.tags_per_antenna = 10, 20, 200
    reads_per = 4 * args.tags_per_antenna
    batches = args.seconds * args.readers
    total = batches * reads_per
    ceiling_s = min(args.seconds, 60)
    with (
        tempfile.TemporaryDirectory() as tmp,
        MosquittoBroker(Path(tmp) / "mq") as broker,
        PostgresCluster() as pg,
    ):
        url = MqttUrl.parse(broker.url)
        ceiling_load = list(make_batches(args.readers, args.tags_per_antenna, ceiling_s))
        ceiling = plain_subscriber_rate(url, ceiling_load, reads_per)
        del ceiling_load
        db_url = pg.create_database("bench")
        upgrade(db_url)
        with psycopg.connect(db_url) as conn:
            apply_site(conn, load_site(site_yaml(args.readers, 50), "bench-site"))
        load = make_batches(args.readers, args.tags_per_antenna, args.seconds)
        result = run_ingest_phase(db_url, url, broker.url, load, total, Path(tmp))
    print()
    print("| path | reads | seconds | reads/s | ingest RSS after warm-up / mid / end (MB) |")
    print("|---|---|---|---|---|")
    print(
        f"| plain subscriber (ceiling) | {ceiling_s * args.readers * reads_per:,} | - | "
        f"{ceiling:,.0f} | - |"
    )
    print(
        f"| broker -> ingest -> PostgreSQL | {total:,} | {result['seconds']:.1f} | "
        f"{result['reads_per_s']:,.0f} | {result['rss_start_mb']:.0f} / "
        f"{result['rss_mid_mb']:.0f} / {result['rss_end_mb']:.0f} |"
    )
    print(
        f"\nbatches: {batches:,} of {reads_per} reads (columnar), {args.readers} readers, "
        f"{args.readers * 4 * args.tags_per_antenna:,} tags"
    )


if __name__ == "__main__":
    main()
