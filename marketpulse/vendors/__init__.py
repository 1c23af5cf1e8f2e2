"""Market-data vendors: HTTP and WebSocket clients, and transformers to our schemas."""
