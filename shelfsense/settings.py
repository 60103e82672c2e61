"""Settings shared by every service, built once in ``main`` from an injected environment.

    settings = Settings.from_env(os.environ)   # in cli.main, never at import

Command-line flags override the environment (``settings.replace(...)``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from shelfsense.wire import DEFAULT_PREFIX

ENV_DATABASE_URL = "SHELFSENSE_DATABASE_URL"
ENV_MQTT_URL = "SHELFSENSE_MQTT_URL"
ENV_MQTT_PREFIX = "SHELFSENSE_MQTT_PREFIX"
ENV_DATA_DIR = "SHELFSENSE_DATA_DIR"
ENV_PUBLIC_URL = "SHELFSENSE_PUBLIC_URL"  # the API's base URL as phones reach it (ack links)


class SettingsError(ValueError):
    """A setting is missing or malformed."""


@dataclass(frozen=True, slots=True)
class MqttUrl:
    """``mqtt://[user:pass@]host:port`` or ``mqtts://…`` (TLS)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise SettingsError(f"MQTT URL {url!r} must start with mqtt:// or mqtts://")
        if not parts.hostname:
            raise SettingsError(f"MQTT URL {url!r} names no host")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise SettingsError(f"MQTT URL {url!r}: {exc}") from exc
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, tls, user, password)

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        auth = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{auth}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    mqtt_url: str | None = None
    mqtt_prefix: str = DEFAULT_PREFIX
    data_dir: Path | None = None
    public_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        settings = cls(
            database_url=environ.get(ENV_DATABASE_URL) or None,
            mqtt_url=environ.get(ENV_MQTT_URL) or None,
            mqtt_prefix=environ.get(ENV_MQTT_PREFIX) or DEFAULT_PREFIX,
            data_dir=Path(environ[ENV_DATA_DIR]) if environ.get(ENV_DATA_DIR) else None,
            public_url=environ.get(ENV_PUBLIC_URL) or None,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(f"{ENV_DATABASE_URL} must be a postgresql:// URL")
        if self.mqtt_url:
            MqttUrl.parse(self.mqtt_url)

    def replace(self, **changes: object) -> Self:
        """A copy with the non-None ``changes`` applied (command-line flags)."""
        kept: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        updated = dataclasses.replace(self, **kept)
        updated.validate()
        return updated

    def require_database(self) -> str:
        if not self.database_url:
            raise SettingsError(f"no database: set {ENV_DATABASE_URL} or pass --database-url")
        return self.database_url

    def require_mqtt(self) -> MqttUrl:
        if not self.mqtt_url:
            raise SettingsError(f"no broker: set {ENV_MQTT_URL} or pass --mqtt-url")
        return MqttUrl.parse(self.mqtt_url)
