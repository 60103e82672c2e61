"""shelfsense api service."""
