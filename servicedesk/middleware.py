"""Request middleware of the desk: the user's language and time zone, the second sign-in
factor, the confinement of department experts, and a 503 while the database is down."""

import logging
import sys
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from servicedesk import roles, two_factor
from servicedesk.models import Profile

logger = logging.getLogger(__name__)


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
                # for this request only: a thread serves other people's requests next
                with timezone.override(zoneinfo.ZoneInfo(profile.time_zone)):
                    return self.get_response(request)
        return self.get_response(request)


# ---- two-factor sign-in: a session signed in with the password only waits at the code

# Views a session may open before it entered its second factor, by URL name.
TWO_FACTOR_PENDING_VIEW_NAMES = frozenset(
    {"two_factor_verify", "two_factor_setup", "two_factor_qr", "logout", "set_language"}
)
TWO_FACTOR_STEP_VIEWS = {"verify": "two_factor_verify", "setup": "two_factor_setup"}


def _view_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware: a signed-in session whose user has two-factor
    sign-in (or must have it: superusers and team leads with TWO_FACTOR_REQUIRED) and that
    has not entered a code yet may open only the code page (or the set-up), log out and
    switch the language. Pages redirect there (the admin too, whose login checks only the
    password); the API answers 403 `two_factor_required` to such a session, while requests
    with an API token pass (token authentication comes first, DESIGN §6)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        if request.path_info.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META:
            return self.get_response(request)
        if _view_name(request.path_info) in TWO_FACTOR_PENDING_VIEW_NAMES:
            return self.get_response(request)
        step = two_factor.pending_step(user)
        if step is None:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            detail = _("Enter the code of your second sign-in factor first.")
            return JsonResponse(
                {"code": "two_factor_required", "detail": str(detail), "errors": {}}, status=403
            )
        target = reverse(TWO_FACTOR_STEP_VIEWS[step])
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            return HttpResponseClientRedirect(target)
        return redirect(target)


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
        *TWO_FACTOR_PENDING_VIEW_NAMES,
    }
)
# The information centre: experts write their departments' articles and review proposals.
EXPERT_VIEW_NAME_PREFIXES = ("tickets:department_", "tickets:knowledge_")
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
    department inbox, the information centre, their account, notifications, log-in/out and the
    language switch, so
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


# ---- the database is down: a clear 503 instead of a 500 (the client should retry)

DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)
_DATABASE_DOWN_FLAG = "_servicedesk_database_unavailable"


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON in the API's error format under /api/, else a short page."""
    detail = _("The database is unavailable; please retry in a moment.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "service_unavailable", "detail": str(detail), "errors": {}}, status=503
        )
    else:
        response = HttpResponse(
            escape(str(detail)), content_type="text/plain; charset=utf-8", status=503
        )
    response["Retry-After"] = "5"
    return response


def _flag_database_errors(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """got_request_exception receiver: remember that a request failed because the database
    was unreachable (raised in a view or in an inner middleware, e.g. the session lookup)."""
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_DOWN_ERRORS):
        setattr(request, _DATABASE_DOWN_FLAG, True)


got_request_exception.connect(_flag_database_errors, dispatch_uid="database_unavailable")


class DatabaseUnavailableMiddleware:
    """Near the top of MIDDLEWARE: a request that fails because PostgreSQL is down or
    restarting answers 503 (`service_unavailable`) instead of 500. Django's persistent
    connections with health checks (CONN_HEALTH_CHECKS) reconnect on the next request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _DATABASE_DOWN_FLAG, False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_DOWN_ERRORS):
            logger.warning("database unavailable: %s", str(exception).strip().splitlines()[:1])
            return database_unavailable_response(request)
        return None
