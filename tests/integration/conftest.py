"""Integration tests: one component against the real private broker and database.

Every test collected under tests/integration/ is marked `integration`, so
`pytest -m "not integration"` runs without starting any service. The service fixtures
themselves (`mqtt_url`, `database_url`, …) live in tests/conftest.py, shared with tests/e2e/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx
    from api_world import World

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def world(database_url: str) -> World:
    """A migrated database seeded with the API tests' store (api_world.seed_world)."""
    from api_world import seed_world

    return seed_world(database_url)


@pytest.fixture
def viewer_client(world: World) -> Iterator[httpx.Client]:
    """The API over the seeded store, signed in as its viewer."""
    from api_world import api_client, auth

    with api_client(world.database_url) as client:
        client.headers.update(auth(world.viewer))
        yield client
