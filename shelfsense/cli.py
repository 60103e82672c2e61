"""The ``shelfsense`` command (contract §5). One small function per verb.

Services register their own verbs' flags through ``<service>/cli.py`` (``add_arguments`` and
``run``), imported here only when the command line is parsed; nothing heavy runs at import.
Settings come from the environment once, here, and flags override them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from shelfsense import __version__
from shelfsense.settings import Settings, SettingsError


class ServiceCli(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace, settings: Settings) -> int: ...


# verb -> (module with add_arguments/run, help)
SERVICE_VERBS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest.cli", "run the ingest service (broker -> database)"),
    "api": ("api.cli", "run the HTTP API and web app"),
    "edge": ("edge.cli", "run the gateway agent"),
    "sim": ("firmware_sim.cli", "run a simulated store and its devices"),
    "demo": ("shelfsense.demo", "run a simulated store end to end"),
    "token": ("api.tokens_cli", "manage API tokens"),
    "dashboards": ("dashboards.cli", "build or push the Grafana dashboards"),
    "lots": ("api.lots_cli", "receive lots (lot code and expiry of received stock)"),
    "notify": ("ingest.notifier.cli", "deliver alerts to phones and browsers"),
}


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from shelfsense.db.migrate import Backend, upgrade

    prefer = Backend(args.backend) if args.backend else None
    applied = upgrade(settings.require_database(), prefer=prefer)
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return 0


def _site_apply(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from shelfsense.db.sites import apply_site
    from shelfsense.site import SiteFileError, load_site

    path = Path(args.file)
    try:
        site = load_site(path.read_text(encoding="utf-8"), str(path))
    except SiteFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    with psycopg.connect(settings.require_database()) as conn:
        apply_site(conn, site)
    print(
        f"site {site.site}: {len(site.products)} products, {len(site.locations)} locations, "
        f"{len(site.devices)} devices applied"
    )
    return 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="overrides SHELFSENSE_DATABASE_URL")
    parser.add_argument("--mqtt-url", help="overrides SHELFSENSE_MQTT_URL")
    parser.add_argument("--log-level", default="INFO")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shelfsense", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"shelfsense {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    db = verbs.add_parser("db", help="database schema").add_subparsers(
        dest="db_verb", required=True
    )
    up = db.add_parser("upgrade", help="apply migrations (idempotent)")
    up.add_argument("--backend", choices=["native", "timescale"], help="first upgrade only")
    _add_common(up)
    up.set_defaults(handler=_db_upgrade)
    site = verbs.add_parser("site", help="site files").add_subparsers(
        dest="site_verb", required=True
    )
    apply = site.add_parser("apply", help="validate a site file and create or update the site")
    apply.add_argument("file")
    _add_common(apply)
    apply.set_defaults(handler=_site_apply)
    for verb, (module_name, help_text) in SERVICE_VERBS.items():
        sub = verbs.add_parser(verb, help=help_text)
        _add_common(sub)
        module = _load(module_name)
        if module is None:
            sub.set_defaults(handler=_missing(module_name))
            continue
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def _load(module_name: str) -> ServiceCli | None:
    try:
        module: ServiceCli = importlib.import_module(module_name)
        return module
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise


def _missing(module_name: str) -> Callable[[argparse.Namespace, Settings], int]:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        print(f"{module_name} is not installed", file=sys.stderr)
        return 2

    return handler


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(args, "log_level", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env(os.environ).replace(
            database_url=getattr(args, "database_url", None),
            mqtt_url=getattr(args, "mqtt_url", None),
        )
        return int(args.handler(args, settings))
    except SettingsError as exc:
        print(f"shelfsense: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
