"""shelfsense dashboards service."""
