"""The integration API (``/api/v1``): tokens, idempotent writes, rate limits, the OpenAPI document."""
