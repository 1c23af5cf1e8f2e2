"""Thin Faust agents: consume, call pure code in :mod:`marketpulse.analytics`, produce."""
