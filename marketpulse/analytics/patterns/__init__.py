"""Pattern detection over bars: TA-Lib's candlestick patterns (more to come: trend, levels,
chart patterns). Pure code, incremental, no Faust."""
