"""Pure computation with no Faust imports: quality checks, bars, indicators, patterns."""
