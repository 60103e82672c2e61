"""The OpenAPI schema documents contract v1 §6: paths, fields, auth. No database needed."""

from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from shelfsense import __version__
from shelfsense.settings import Settings, SettingsError

CONTRACT_READS = {
    "/api/v1/sites/{site}/stock": {"sku", "location", "qty", "state", "updated_at"},
    "/api/v1/sites/{site}/movements": {
        "id", "ts", "sku", "epc", "from_location", "to_location", "qty", "kind", "source",
        "confidence",
    },
    "/api/v1/sites/{site}/alerts": {
        "id", "type", "severity", "location", "sku", "status", "opened_at", "details",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none"))
    return app.openapi()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _item_schema(schema: dict[str, Any], path: str) -> dict[str, Any]:
    ok = schema["paths"][path]["get"]["responses"]["200"]
    listing = _resolve(schema, ok["content"]["application/json"]["schema"])
    assert listing["type"] == "array", path
    return _resolve(schema, listing["items"])


def test_title_and_version(schema: dict[str, Any]) -> None:
    assert schema["info"]["title"] == "shelfsense"
    assert schema["info"]["version"] == __version__


@pytest.mark.parametrize("path", sorted(CONTRACT_READS))
def test_contract_reads_document_their_fields(schema: dict[str, Any], path: str) -> None:
    item = _item_schema(schema, path)
    assert set(item["properties"]) >= CONTRACT_READS[path]
    assert set(item["required"]) >= CONTRACT_READS[path]
    assert schema["paths"][path]["get"]["security"] == [{"token": []}]


def test_state_enum_and_query_parameters(schema: dict[str, Any]) -> None:
    stock = _item_schema(schema, "/api/v1/sites/{site}/stock")
    assert _resolve(schema, stock["properties"]["state"])["enum"] == [
        "ok", "low", "out", "unknown",
    ]  # fmt: skip
    assert stock["properties"]["updated_at"]["format"] == "date-time"

    def params(path: str) -> set[str]:
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    assert params("/api/v1/sites/{site}/stock") >= {"site", "at"}
    assert params("/api/v1/sites/{site}/movements") >= {"since", "until", "limit", "after_id"}
    assert params("/api/v1/sites/{site}/alerts") >= {"status"}


def test_health_is_open(schema: dict[str, Any]) -> None:
    health = schema["paths"]["/api/v1/health"]["get"]
    assert "security" not in health
    ok = _resolve(schema, health["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(ok["properties"]) == {"status"}


def test_create_app_needs_a_database_url() -> None:
    with pytest.raises(SettingsError):
        create_app(Settings())
