"""Per-client rate limits that fail open when Redis is down."""

import logging
import uuid
from functools import cache
from typing import Any

from rest_framework import throttling

from servicedesk import redis_client

logger = logging.getLogger(__name__)

# A sliding window in one round trip: drop what left the window, count, and record this
# request only when it is allowed. Returns {allowed, score of the oldest request kept}.
SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, oldest[2]}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return {1, false}
"""


@cache
def _sliding_window() -> Any:
    return redis_client.client().register_script(SLIDING_WINDOW)


class ClientRateThrottle(throttling.SimpleRateThrottle):
    """Requests per authenticated client (or per address for anonymous requests), counted
    in Redis with one round trip per request (a sorted set per client, a Lua script).

    Redis is only for speed here: when it is unreachable the throttle lets requests
    through (fails open). The rate is API_RATE_LIMIT (raise it for benchmarks).
    """

    scope = "client"
    cache_format = "servicedesk:throttle_%(scope)s_%(ident)s"

    def get_cache_key(self, request: Any, view: Any) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        self.oldest: float | None = None
        try:
            allowed, oldest = _sliding_window()(
                keys=[self.key],
                args=[self.now, self.duration, self.num_requests, uuid.uuid4().hex],
            )
        except Exception:  # Redis unreachable: fail open
            logger.warning("rate limit cache unavailable; request allowed")
            return True
        if allowed:
            return True
        self.oldest = float(oldest)
        return False

    def wait(self) -> float | None:
        """Seconds until the oldest request in the window leaves it."""
        if self.oldest is None:
            return None
        return max(self.duration - (self.now - self.oldest), 0.0)
