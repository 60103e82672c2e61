"""The edge error family. Third-party errors (pydantic, sqlite3, OSError) are translated here.

EdgeError
 ├── EdgeConfigError     the gateway file is missing, not YAML, or not a valid EdgeConfig
 └── SpoolError          the store-and-forward queue cannot be opened or written
      └── SpoolLocked    another edge process already holds this spool file
"""

from __future__ import annotations


class EdgeError(Exception):
    """Anything the edge agent reports to its operator."""


class EdgeConfigError(EdgeError, ValueError):
    """The gateway config file cannot be used; the message names the file and the field."""


class SpoolError(EdgeError):
    """The spool failed; the batch that was being stored is not stored."""


class SpoolLocked(SpoolError):
    """Two edge processes must never share one spool: they would both publish every batch."""
