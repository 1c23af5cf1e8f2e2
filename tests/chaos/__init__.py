"""``make chaos``: the whole system under load and scripted faults, then its invariants."""
