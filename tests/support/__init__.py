"""Scenario builders and small helpers shared by the integration and end-to-end tests."""
