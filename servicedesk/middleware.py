"""Activate the signed-in user's language and time zone for the request."""

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation

from servicedesk import roles
from servicedesk.models import Profile


class UserPreferencesMiddleware:
    """After authentication: the profile's language (unless the request chose one explicitly
    through the language cookie) and time zone; anonymous requests keep German/Berlin."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = Profile.objects.filter(user=user).only("language", "time_zone").first()
            if profile is not None:
                if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                    translation.activate(profile.language)
                    request.LANGUAGE_CODE = profile.language
                timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
        return self.get_response(request)


# ---- department experts see the department inbox and nothing else of the desk (DESIGN §1)

# Views a department expert may open, by URL name; everything else answers 404.
EXPERT_VIEW_NAMES = frozenset(
    {
        "home",
        "login",
        "logout",
        "account",
        "set_language",
        "tickets:notifications",
        "tickets:notification_bell",
        "tickets:notification_read",
        "tickets:notifications_read_all",
    }
)
EXPERT_VIEW_NAME_PREFIXES = ("tickets:department_",)
# Paths outside the HTML workspace: the API decides visibility itself (querysets), static
# files and the language switch are harmless.
EXPERT_PATH_PREFIXES = ("/api/", "/static/", "/i18n/")


def is_confined_expert(user: Any) -> bool:
    """A department expert who is not also desk staff (nor a superuser)."""
    return bool(
        user is not None
        and user.is_authenticated
        and roles.is_department_expert(user)
        and not roles.is_desk_staff(user)
        and not user.is_superuser
    )


def expert_may_open(path: str) -> bool:
    if path.startswith(EXPERT_PATH_PREFIXES):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # Django answers 404 itself
    return match.view_name in EXPERT_VIEW_NAMES or match.view_name.startswith(
        EXPERT_VIEW_NAME_PREFIXES
    )


class ExpertConfinementMiddleware:
    """After authentication: department experts get 404 for every HTML page except the
    department inbox, their account, notifications, log-in/out and the language switch, so
    they cannot even learn that tickets, customers or the search exist. One central check
    instead of one per view; the views still check visibility themselves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_confined_expert(getattr(request, "user", None)) and not expert_may_open(
            request.path_info
        ):
            raise Http404
        return self.get_response(request)
