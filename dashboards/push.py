"""Upload built dashboards to a running Grafana over its HTTP API (grafana-client).

`push_dashboards(url, token, dashboards, folder=..., datasource=...)`:

1. optionally creates or updates the PostgreSQL data source under the fixed uid the panels
   name (`DATASOURCE_UID`), from a `postgresql://` URL;
2. finds the folder by title, or creates it (uid derived from the title);
3. posts every dashboard to `/api/dashboards/db` with `overwrite: true`, so pushing again
   replaces them in place (same uids).

Authentication is a service-account token (`Authorization: Bearer TOKEN`). This module is
the only one that talks to Grafana; its errors leave as `PushError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.build import DATASOURCE_TYPE, DATASOURCE_UID, BuiltDashboard
from dashboards.errors import PushError
from shelfsense.db.migrate import Backend

DEFAULT_FOLDER = "Shelfsense"
DATASOURCE_NAME = "Shelfsense PostgreSQL"
TIMEOUT_S = 10.0
PUSH_MESSAGE = "shelfsense dashboards push"


@dataclass(frozen=True, slots=True)
class PostgresSource:
    """What Grafana needs to reach the shelfsense database (`host` is `host:port`)."""

    host: str
    database: str
    user: str
    password: str = field(repr=False)
    sslmode: str = "disable"

    @classmethod
    def from_url(cls, url: str) -> PostgresSource:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise PushError(f"data source URL must be postgresql://user@host[:port]/db: {url!r}")
        return cls(
            host=f"{parts.hostname}:{parts.port or 5432}",
            database=parts.path.lstrip("/") or "postgres",
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            sslmode=parse_qs(parts.query).get("sslmode", ["disable"])[0],
        )

    def payload(self, backend: Backend) -> dict[str, object]:
        return {
            "name": DATASOURCE_NAME,
            "uid": DATASOURCE_UID,
            "type": DATASOURCE_TYPE,
            "access": "proxy",
            "url": self.host,
            "user": self.user,
            "jsonData": {
                "database": self.database,
                "sslmode": self.sslmode,
                "postgresVersion": 1500,
                "timescaledb": backend is Backend.TIMESCALE,
            },
            "secureJsonData": {"password": self.password},
        }


@dataclass(frozen=True, slots=True)
class PushResult:
    folder_uid: str
    dashboard_uids: tuple[str, ...]
    datasource: str | None  # "created", "updated" or None (left alone)


def folder_uid(title: str) -> str:
    """A stable folder uid from its title (Grafana allows up to 40 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if slug in ("", "shelfsense"):
        return "shelfsense"
    return f"shelfsense-{slug}"[:40].rstrip("-")


@contextmanager
def _grafana(url: str, token: str) -> Iterator[Any]:
    """The client, typed `Any`: grafana-client's element methods carry no annotations."""
    api: Any = GrafanaApi.from_url(url, credential=token, timeout=TIMEOUT_S)
    try:
        yield api
    except GrafanaException as exc:
        raise PushError(f"Grafana at {url} refused: {exc.message}") from exc
    except OSError as exc:
        raise PushError(f"cannot reach Grafana at {url}: {exc}") from exc
    finally:
        api.client.s.close()


def _ensure_folder(api: Any, title: str) -> str:
    folders: list[dict[str, Any]] = api.folder.get_all_folders()
    for folder in folders:
        if folder.get("title") == title:
            return str(folder["uid"])
    created: dict[str, Any] = api.folder.create_folder(title, uid=folder_uid(title))
    return str(created["uid"])


def _upsert_datasource(api: Any, source: PostgresSource, backend: Backend) -> str:
    payload = source.payload(backend)
    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.datasource.create_datasource(payload)
        return "created"
    api.datasource.update_datasource_by_uid(DATASOURCE_UID, payload)
    return "updated"


def dashboard_payload(dashboard: BuiltDashboard, folder: str) -> dict[str, object]:
    """The `/api/dashboards/db` body: no numeric id (Grafana matches on uid), overwrite."""
    model = {k: v for k, v in dashboard.model.items() if k != "id"}
    return {"dashboard": model, "folderUid": folder, "overwrite": True, "message": PUSH_MESSAGE}


def push_dashboards(
    url: str,
    token: str,
    dashboards: Iterable[BuiltDashboard],
    *,
    folder: str = DEFAULT_FOLDER,
    datasource: PostgresSource | None = None,
) -> PushResult:
    """Upload `dashboards` into `folder` (created if missing); see the module docstring."""
    boards = tuple(dashboards)
    backend = boards[0].backend if boards else Backend.NATIVE
    with _grafana(url, token) as api:
        source_state = _upsert_datasource(api, datasource, backend) if datasource else None
        target = _ensure_folder(api, folder)
        for board in boards:
            api.dashboard.update_dashboard(dashboard_payload(board, target))
    return PushResult(target, tuple(b.uid for b in boards), source_state)
