"""Incremental technical indicators that equal TA-Lib from its first output bar."""

from marketpulse.analytics.indicators.base import Candle, Indicator
from marketpulse.analytics.indicators.catalog import UnknownIndicator
from marketpulse.analytics.indicators.registry import DEFAULT_SPECS, IndicatorSet, build

__all__ = ["DEFAULT_SPECS", "Candle", "Indicator", "IndicatorSet", "UnknownIndicator", "build"]
