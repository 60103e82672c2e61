"""shelfsense: shelf telemetry turned into stock you can trust. Shared package (contracts, CLI)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
