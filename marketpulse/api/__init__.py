"""The FastAPI layer under ``/api/v1``."""
