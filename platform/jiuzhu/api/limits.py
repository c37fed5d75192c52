"""Per-token rate limits in Redis: a fixed one-minute window per token.

With Redis unreachable or misbehaving (any client error, a connection closed under us at start-up)
the API keeps serving (the counties' work must not stop because a cache is down) and logs the
failure once a minute. Counters live in the instance's namespace (``jiuzhu:<instance>:api:rate:…``).
"""

from __future__ import annotations

import logging
import time

from flask import Flask

from jiuzhu.instance import identity, shared_redis

log = logging.getLogger(__name__)
WINDOW = 60


_last_warning = [0.0]


def hit(app: Flask, token_id: int, now: float | None = None) -> tuple[bool, int, int]:
    """Count one request of the token: ``(allowed, remaining, seconds until the window ends)``."""
    limit = int(app.config.get("JIUZHU_API_RATE_PER_MINUTE") or 120)
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    retry_after = max(1, int((window + 1) * WINDOW - now + 0.999))
    key = identity(app).key("api", "rate", token_id, window)
    try:
        pipe = shared_redis(app).pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW + 5)
        count = int(pipe.execute()[0])
    except Exception as exc:  # noqa: BLE001 — RedisError, OSError, ValueError on a closed socket …
        if now - _last_warning[0] > 60:
            _last_warning[0] = now
            log.warning("API rate limit not enforced, Redis unavailable: %s", exc)
        return True, limit, retry_after
    return count <= limit, max(0, limit - count), retry_after
