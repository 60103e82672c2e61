"""shelfsense edge service."""
