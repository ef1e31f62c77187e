"""Presence from activity (issue 16, point 1): every browser request of a signed-in desk
person (a session, not an API token) refreshes his `last_seen_at`, at most once a minute
(a Redis key remembers the last write; if the cache is down the write happens every
request — it is one UPDATE)."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servicedesk import roles
from staffing import actions


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
            if actions.activity_write_due(user.pk):
                actions.record_activity(user, now=timezone.now())
        return response
