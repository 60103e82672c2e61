"""`shelfsense dashboards build|push`.

shelfsense dashboards build [--out DIR] [--backend native|timescale|all]
    writes DIR/<backend>/<uid>.json (default DIR: the package's json/ folder, which is
    committed); files of dashboards that no longer exist are removed, nothing else is.
shelfsense dashboards push --url URL --token TOKEN [--folder NAME]
                           [--backend native|timescale] [--datasource-url postgresql://...]
    builds in memory and uploads into the folder, overwriting by uid; with
    --datasource-url also creates or updates the PostgreSQL data source.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from dashboards.build import BuiltDashboard, build_dashboards
from dashboards.errors import DashboardsError
from dashboards.push import DEFAULT_FOLDER, PostgresSource, push_dashboards
from shelfsense.db.migrate import Backend
from shelfsense.settings import Settings

DEFAULT_OUT = Path(__file__).parent / "json"
ALL = "all"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="dashboards_verb", required=True, metavar="VERB")
    build = verbs.add_parser("build", help="write the dashboard JSON (reproducible)")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: %(default)s")
    build.add_argument(
        "--backend", choices=[*Backend, ALL], default=Backend.NATIVE, help="default: %(default)s"
    )
    push = verbs.add_parser("push", help="upload the dashboards to Grafana")
    push.add_argument("--url", required=True, help="Grafana base URL, e.g. http://grafana:3000")
    push.add_argument("--token", required=True, help="Grafana service-account token")
    push.add_argument("--folder", default=DEFAULT_FOLDER, help="default: %(default)s")
    push.add_argument("--backend", choices=list(Backend), default=Backend.NATIVE)
    push.add_argument(
        "--datasource-url", help="also create/update the data source: postgresql://user:pw@h/db"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.dashboards_verb == "build":
            return _build(args.out, args.backend)
        return _push(args)
    except DashboardsError as exc:
        print(f"shelfsense dashboards: {exc}", file=sys.stderr)
        return 1


def _build(out: Path, backend: str) -> int:
    backends = list(Backend) if backend == ALL else [Backend(backend)]
    for chosen in backends:
        written = write_dashboards(out / chosen, build_dashboards(chosen))
        print(f"{chosen}: {len(written)} dashboards in {out / chosen}")
    return 0


def write_dashboards(directory: Path, built: Iterable[BuiltDashboard]) -> list[Path]:
    """Write each dashboard's file; remove other `*.json` files there (stale dashboards)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for board in built:
        path = directory / board.filename
        path.write_text(board.text, encoding="utf-8")
        written.append(path)
    for stale in set(directory.glob("*.json")) - set(written):
        stale.unlink()
    return written


def _push(args: argparse.Namespace) -> int:
    source = PostgresSource.from_url(args.datasource_url) if args.datasource_url else None
    result = push_dashboards(
        args.url,
        args.token,
        build_dashboards(Backend(args.backend)),
        folder=args.folder,
        datasource=source,
    )
    if result.datasource:
        print(f"data source {result.datasource}")
    print(f"pushed {len(result.dashboard_uids)} dashboards into folder {result.folder_uid}")
    return 0
