"""Write the JSON Schemas of the wire payloads and the site file (``docs/schemas/``)."""

from __future__ import annotations

import json
from pathlib import Path

from shelfsense.site import SiteFile
from shelfsense.wire import json_schemas


def all_schemas() -> dict[str, dict[str, object]]:
    schemas = {f"{kind}-payload": schema for kind, schema in json_schemas().items()}
    schemas["site-file"] = SiteFile.model_json_schema()
    return schemas


def render(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in sorted(all_schemas().items()):
        path = folder / f"{name}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_schemas(Path(__file__).resolve().parent.parent / "docs" / "schemas"):
        print(p)
