"""`push_dashboards` and `shelfsense dashboards push` against a local stand-in for Grafana.

The stand-in is a small HTTP server in a thread on a free loopback port. It answers the few
Grafana API calls push makes, the way Grafana 11 answers them, and records every request
(method, path, headers, JSON body) so the tests can check what was sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboards import PostgresSource, PushError, build_dashboards, push_dashboards
from dashboards.build import DATASOURCE_TYPE, DATASOURCE_UID
from shelfsense.cli import main
from shelfsense.db.migrate import Backend

TOKEN = "glsa_test_token"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    """Grafana's state as the stand-in sees it, and what it was sent."""

    url: str = ""
    folders: list[dict[str, object]] = field(default_factory=list)
    datasources: dict[str, dict[str, object]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def sent(self, method: str, path: str) -> list[Any]:
        return [r.body for r in self.requests if (r.method, r.path) == (method, path)]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, object]:
        if method == "GET" and path == "/api/folders":
            return 200, self.folders
        if method == "POST" and path == "/api/folders":
            folder = {"id": len(self.folders) + 1, "uid": body["uid"], "title": body["title"]}
            self.folders.append(folder)
            return 200, folder
        if method == "POST" and path == "/api/dashboards/db":
            return 200, {"status": "success", "uid": body["dashboard"]["uid"], "version": 1}
        if path == f"/api/datasources/uid/{DATASOURCE_UID}" and method in ("GET", "PUT"):
            if DATASOURCE_UID not in self.datasources:
                return 404, {"message": "Data source not found"}
            self.datasources[DATASOURCE_UID] = body or self.datasources[DATASOURCE_UID]
            return 200, {"message": "Datasource updated", "uid": DATASOURCE_UID}
        if method == "POST" and path == "/api/datasources":
            self.datasources[body["uid"]] = body
            return 200, {"message": "Datasource added", "id": 1}
        return 404, {"message": "Not found"}


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?", 1)[0]
            stand_in.requests.append(Recorded(self.command, path, dict(self.headers.items()), body))
            status: int = 401
            answer: object = {"message": "invalid API key"}
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                status, answer = stand_in.answer(self.command, path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def grafana() -> Iterator[StandIn]:
    stand_in = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield stand_in
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_push_creates_the_folder_and_overwrites_every_dashboard(grafana: StandIn) -> None:
    built = build_dashboards(Backend.NATIVE)
    result = push_dashboards(grafana.url, TOKEN, built)

    assert grafana.sent("POST", "/api/folders") == [{"title": "Shelfsense", "uid": "shelfsense"}]
    posted = grafana.sent("POST", "/api/dashboards/db")
    assert [p["dashboard"] for p in posted] == [b.model for b in built]
    assert {(p["folderUid"], p["overwrite"]) for p in posted} == {("shelfsense", True)}
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in grafana.requests)
    assert result.dashboard_uids == tuple(b.uid for b in built)
    assert (result.folder_uid, result.datasource) == ("shelfsense", None)


def test_push_reuses_a_folder_with_the_same_title(grafana: StandIn) -> None:
    grafana.folders.append({"id": 3, "uid": "ops-7", "title": "Store ops"})
    result = push_dashboards(grafana.url, TOKEN, build_dashboards(), folder="Store ops")
    assert grafana.sent("POST", "/api/folders") == []
    assert {p["folderUid"] for p in grafana.sent("POST", "/api/dashboards/db")} == {"ops-7"}
    assert result.folder_uid == "ops-7"


def test_push_creates_then_updates_the_datasource(grafana: StandIn) -> None:
    source = PostgresSource.from_url("postgresql://grafana:s%40cret@db:5433/shelfsense")
    first = push_dashboards(
        grafana.url, TOKEN, build_dashboards(Backend.TIMESCALE), datasource=source
    )
    second = push_dashboards(
        grafana.url, TOKEN, build_dashboards(Backend.TIMESCALE), datasource=source
    )

    assert (first.datasource, second.datasource) == ("created", "updated")
    (created,) = grafana.sent("POST", "/api/datasources")
    assert created["uid"] == DATASOURCE_UID and created["type"] == DATASOURCE_TYPE
    assert (created["url"], created["user"]) == ("db:5433", "grafana")
    assert created["jsonData"]["database"] == "shelfsense"
    assert created["jsonData"]["timescaledb"] is True
    assert created["secureJsonData"] == {"password": "s@cret"}
    assert grafana.sent("PUT", f"/api/datasources/uid/{DATASOURCE_UID}") == [created]


def test_a_refused_token_is_a_push_error(grafana: StandIn) -> None:
    with pytest.raises(PushError, match="refused"):
        push_dashboards(grafana.url, "wrong", build_dashboards())
    assert grafana.sent("POST", "/api/dashboards/db") == []


def test_an_unreachable_grafana_is_a_push_error(grafana: StandIn) -> None:
    with pytest.raises(PushError, match="cannot reach"):
        push_dashboards("http://127.0.0.1:9", TOKEN, build_dashboards())


def test_cli_push(grafana: StandIn, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["dashboards", "push", "--url", grafana.url, "--token", TOKEN, "--folder", "Ops"]
    assert main(argv) == 0
    assert "pushed 5 dashboards into folder shelfsense-ops" in capsys.readouterr().out
    assert len(grafana.sent("POST", "/api/dashboards/db")) == 5

    assert main([*argv[:-3], "nope"]) == 1
    assert "refused" in capsys.readouterr().err
