"""marketpulse: a real-time market-analysis pipeline."""

__version__ = "0.1.0"
