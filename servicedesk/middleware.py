"""Activate the signed-in user's language and time zone for the request."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

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
                translation.activate(profile.language)
                request.LANGUAGE_CODE = profile.language
                timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
        return self.get_response(request)
