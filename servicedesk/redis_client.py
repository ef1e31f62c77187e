"""One Redis client per process for the features that use Redis only for speed (the API
rate limit, the lookup caches' generations): short timeouts, as the cache's (settings)."""

from functools import cache

import redis
from django.conf import settings


@cache
def client() -> redis.Redis:
    options = settings.CACHES["default"].get("OPTIONS", {})
    return redis.Redis.from_url(
        settings.CACHES["default"]["LOCATION"],
        socket_connect_timeout=options.get("socket_connect_timeout", 0.5),
        socket_timeout=options.get("socket_timeout", 0.5),
    )
