"""Mutation testing: small bugs planted in the guarded modules, one at a time, and whether the
tests catch each (``make mutate``; ``make test`` runs a bounded sample of the changed modules)."""
