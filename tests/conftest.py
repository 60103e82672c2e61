"""Fixtures for every test: a clean environment, a private broker and a private database.

Services start lazily, once per session, on free loopback ports (never 1883 or 5432):

    mqtt_broker / mqtt_url        a private Mosquitto (persistent sessions, QoS 1 queues)
    fresh_mqtt_broker             a Mosquitto of the test's own, free to stop, kill and restart
    pg_cluster                    a private PostgreSQL cluster (fsync off: fast, not durable)
    database_url                  a fresh database per test, copied from a migrated template
    empty_database_url            a fresh database per test with no schema at all
    open_spool                    the edge spool contract: MemorySpool, then SqliteSpool

Tests sharing `mqtt_broker` keep apart by using their own client ids and topic prefixes
(`unique_name`). A test that stops or kills a session service leaves it to the next fixture
call to start it again.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from support.spools import OpenSpool, spool_factory

from shelfsense.runtime import MosquittoBroker, PostgresCluster

TEMPLATE_DATABASE = "shelfsense_template"
_serial = itertools.count(1)


@pytest.fixture(params=["memory", "sqlite"])
def open_spool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenSpool]:
    yield from spool_factory(request, tmp_path)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SHELFSENSE_* variable leaks from the shell (or from another test) into a test."""
    for key in list(os.environ):
        if key.startswith("SHELFSENSE_"):
            monkeypatch.delenv(key)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A short name unique in the session, usable as a database name, client id or topic level."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")
    return f"t{next(_serial)}_{slug}"[:48]


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path_factory.mktemp("mosquitto")) as broker:
        yield broker


@pytest.fixture
def mqtt_url(mqtt_broker: MosquittoBroker) -> str:
    """`mqtt://127.0.0.1:PORT` of the session broker, started again if a test stopped it."""
    return mqtt_broker.start().url


@pytest.fixture
def fresh_mqtt_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "mosquitto") as broker:
        yield broker


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    # PostgresCluster picks its own directory under /tmp: pytest's tmp dirs (0700, root's) are
    # not reachable by the postgres user when the tests run as root.
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def migrated_template(pg_cluster: PostgresCluster) -> str:
    """The name of a database migrated by `shelfsense.db.migrate.upgrade`, closed to connections."""
    try:
        from shelfsense.db.migrate import upgrade
    except ImportError as exc:
        pytest.skip(f"shelfsense.db.migrate.upgrade(database_url) is not available yet: {exc}")
    upgrade(pg_cluster.create_database(TEMPLATE_DATABASE))
    with pg_cluster.connect() as conn:
        conn.execute(f"ALTER DATABASE {TEMPLATE_DATABASE} WITH IS_TEMPLATE true")
        conn.execute(f"ALTER DATABASE {TEMPLATE_DATABASE} WITH ALLOW_CONNECTIONS false")
    return TEMPLATE_DATABASE


@pytest.fixture
def database_url(
    pg_cluster: PostgresCluster, migrated_template: str, unique_name: str
) -> Iterator[str]:
    """A migrated database of this test's own (CREATE DATABASE … TEMPLATE: tens of ms)."""
    yield pg_cluster.start().create_database(unique_name, template=migrated_template)
    pg_cluster.start().drop_database(unique_name)


@pytest.fixture
def empty_database_url(pg_cluster: PostgresCluster, unique_name: str) -> Iterator[str]:
    """A database with no schema, for tests of the migrations themselves."""
    name = f"{unique_name}_empty"
    yield pg_cluster.start().create_database(name)
    pg_cluster.start().drop_database(name)


# Property tests are deterministic in CI (no example database, the same examples every run);
# HYPOTHESIS_PROFILE=explore draws fresh random examples locally (or pass --hypothesis-seed=N).
settings.register_profile("shelfsense", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "shelfsense"))
