"""Wire records (validated on decode), API models and the exported JSON Schemas."""
