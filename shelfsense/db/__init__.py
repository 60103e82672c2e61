"""The database schema: a contract too (ingest writes it; api and dashboards read it)."""

from shelfsense.db.migrate import Backend, detect_backend, upgrade

__all__ = ["Backend", "detect_backend", "upgrade"]
