"""Presence from activity (issue 16, point 1): every browser request of a signed-in desk
person (a session, not an API token) refreshes his `last_seen_at`, at most once a minute
(a Redis key remembers the last write; if the cache is down the write happens every
request — it is one UPDATE)."""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servicedesk import roles
from staffing import actions

logger = logging.getLogger(__name__)
ACTIVITY_WRITE_SECONDS = 60


class PresenceActivityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user: Any = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and hasattr(request, "session")
            and SESSION_KEY in request.session
            and roles.is_desk_staff(user)
        ):
            try:
                due = cache.add(f"staffing:seen:{user.pk}", 1, timeout=ACTIVITY_WRITE_SECONDS)
            except Exception:  # the cache only saves writes: fail open
                due = True
            if due:
                actions.record_activity(user, now=timezone.now())
        return response
