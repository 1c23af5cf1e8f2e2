"""Start, stop and check the local services the pipeline needs, all on loopback."""
