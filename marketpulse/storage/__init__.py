"""Clients for InfluxDB, PostgreSQL and Redis, used by the sinks and the API."""
