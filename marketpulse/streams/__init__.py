"""Topics, codecs, sources and the Kafka client adjustments."""
