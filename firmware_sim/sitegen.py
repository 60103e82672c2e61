"""Files a simulated store hands to the rest of shelfsense: its site file and a gateway file.

``site_yaml`` dumps the scenario's ``SiteFile`` (it loads back with ``shelfsense.site.load_site``);
``gateway_yaml`` lists every device of one gateway with the device-bus address the edge agent
connects to:

    site: demo-store
    gateway: gw-1
    spool_path: edge-demo-store-gw-1.spool.sqlite   # relative: next to the gateway file
    devices:
    - {id: reader-1, kind: rfid, driver: devbus, address: 127.0.0.1:7100}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from firmware_sim.scenario import Scenario
from shelfsense.site import SiteFile


def site_yaml(site: SiteFile) -> str:
    data = site.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def gateway_config(
    scenario: Scenario, address: str, spool_path: str | None = None
) -> dict[str, Any]:
    site, gateway = scenario.site.site, scenario.gateway
    devices = [
        {"id": d.id, "kind": d.kind, "driver": "devbus", "address": address}
        for d in scenario.site.devices
        if d.gateway == gateway
    ]
    spool = spool_path or f"edge-{site}-{gateway}.spool.sqlite"
    return {"site": site, "gateway": gateway, "spool_path": spool, "devices": devices}


def gateway_yaml(scenario: Scenario, address: str, spool_path: str | None = None) -> str:
    return yaml.safe_dump(gateway_config(scenario, address, spool_path), sort_keys=False)


def write_files(
    scenario: Scenario, address: str, *, site_out: Path | None, gateway_out: Path | None
) -> None:
    if site_out is not None:
        site_out.parent.mkdir(parents=True, exist_ok=True)
        site_out.write_text(site_yaml(scenario.site), encoding="utf-8")
    if gateway_out is not None:
        gateway_out.parent.mkdir(parents=True, exist_ok=True)
        gateway_out.write_text(gateway_yaml(scenario, address), encoding="utf-8")
