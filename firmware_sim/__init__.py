"""shelfsense firmware_sim service."""
