"""Sinks: consumers that store the analytics topics in InfluxDB, PostgreSQL and Redis."""
