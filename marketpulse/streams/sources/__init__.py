"""Where market data comes from: vendors, files and the synthetic generator."""
