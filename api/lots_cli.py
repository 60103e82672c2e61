"""``shelfsense lots receive``: record which lot and expiry date received stock belongs to.

    shelfsense lots receive --site S --gs1 '(01)08690000000012(10)L42(17)251231' --epc E1 --epc E2
    shelfsense lots receive --site S --sku COLA-330 --lot L7 --expiry 2025-12-31 \\
        --qty 12 --location floor/aisle-2/shelf-1
    shelfsense lots receive --site S --gs1 'https://id.gs1.org/01/.../10/L42?17=251231' \\
        --epcs-file epcs.txt

All or nothing, as ``POST /sites/{site}/lots``: on any problem (malformed GS1 string, unknown
product or location, EPCs of another product or already in a lot) it prints every problem to
stderr, writes nothing and exits 2. On success it prints the new lot id.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from shelfsense.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="lots_action", required=True, metavar="ACTION")
    receive = actions.add_parser("receive", help="receive a lot (RFID EPCs or a quantity)")
    receive.add_argument("--site", required=True)
    receive.add_argument("--gs1", help="a scanned GS1 element string or Digital Link URI")
    receive.add_argument("--sku")
    receive.add_argument("--gtin")
    receive.add_argument("--lot")
    receive.add_argument("--expiry", type=date.fromisoformat, help="YYYY-MM-DD")
    receive.add_argument("--epc", action="append", default=[], help="an EPC (repeatable)")
    receive.add_argument("--epcs-file", type=Path, help="EPCs, one per line")
    receive.add_argument("--qty", type=int, help="units on a weight shelf")
    receive.add_argument("--location", help="where the units are (with --qty)")
    for name in ("--database-url", "--mqtt-url", "--log-level"):
        receive.add_argument(name, default=argparse.SUPPRESS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    from shelfsense.gs1 import Gs1Error
    from shelfsense.lots import LotError, receipt_from, receive_lot

    try:
        epcs = list(args.epc) + _file_epcs(args.epcs_file)
        receipt = receipt_from(
            today=datetime.now(UTC).date(),
            gs1_text=args.gs1,
            sku=args.sku,
            gtin=args.gtin,
            lot=args.lot,
            expiry=args.expiry,
            epcs=epcs,
            qty=args.qty,
            location=args.location,
        )
        with psycopg.connect(settings.require_database(), autocommit=True) as conn:
            lot_id = receive_lot(conn, args.site, receipt)
    except (Gs1Error, OSError) as exc:
        print(f"shelfsense lots: {exc}", file=sys.stderr)
        return 2
    except LotError as exc:
        for problem in exc.problems:
            print(f"shelfsense lots: {problem}", file=sys.stderr)
        for key, values in exc.details.items():
            print(f"  {key}: {', '.join(values)}", file=sys.stderr)
        return 2
    print(lot_id)
    return 0


def _file_epcs(path: Path | None) -> list[str]:
    if path is None:
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
