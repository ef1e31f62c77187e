"""Shared API plumbing: the error format of DESIGN §6, pagination and rate limits.

Errors are JSON `{"code", "detail", "errors"}`: 401 no or bad credentials, 404 not visible,
403 the role may not act, 409 wrong state / failed guard / conflict, 400 invalid input,
413 body too large. Never an HTML page, never a 500 for bad input.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from servicedesk.api_io import too_large_message
from servicedesk.errors import DomainError, InvalidArgument

logger = logging.getLogger(__name__)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _body(code: str, detail: Any, errors: Any = None) -> dict[str, Any]:
    return {"code": code, "detail": str(detail), "errors": errors if errors is not None else {}}


def _flatten(detail: Any) -> Any:
    """DRF's ErrorDetail structures → plain strings (keeping dict/list shape)."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


def _field_errors(detail: Any) -> Any:
    flattened = _flatten(detail)
    if isinstance(flattened, list):
        if flattened and all(isinstance(item, str) for item in flattened):
            return {"non_field_errors": flattened}
        return flattened
    if isinstance(flattened, str):
        return {"non_field_errors": [flattened]}
    return {
        key: value if isinstance(value, list | dict) else [value]
        for key, value in flattened.items()
    }


class BatchInvalid(Exception):
    """A batch with invalid items: `errors` is `[{"index": i, "errors": {...}}]` (DESIGN §6)."""

    def __init__(self, errors: list[dict[str, Any]], detail: Any = None) -> None:
        self.errors = errors
        self.detail = detail or gettext_lazy("Invalid input: nothing was stored.")
        super().__init__(str(self.detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BatchInvalid):
        return Response(
            _body(
                "invalid",
                exc.detail,
                [
                    {"index": item["index"], "errors": _field_errors(item["errors"])}
                    for item in exc.errors
                ],
            ),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, InvalidArgument):
        return Response(
            _body(exc.code, exc.detail, {exc.field: [str(exc.detail)]}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DomainError):
        return Response(_body(exc.code, exc.detail, exc.data_errors()), status=exc.status)
    if isinstance(exc, ConcurrentTransition):
        return Response(
            _body("conflict", "Someone else changed this object in the meantime."),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, TransitionNotAllowed):
        return Response(_body("invalid_transition", str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            _body("too_large", too_large_message()),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body("invalid", _("Invalid input."), _field_errors(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if not isinstance(exc.detail, dict | list) else "Error."
        response.data = _body(exc.default_code, detail)
    return response


# --------------------------------------------------------------------------- Django handlers
# Under /api/ even Django's own error pages answer JSON (DESIGN §6: never an HTML page).


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json_error(code: str, detail: Any, status_code: int) -> JsonResponse:
    return JsonResponse(_body(code, detail), status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a body over the size limit is 413; other bad requests under /api/ JSON."""
    if isinstance(exception, RequestDataTooBig):
        return _json_error("too_large", too_large_message(), 413)
    if _is_api(request):
        return _json_error("bad_request", _("Bad request."), 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: under /api/ JSON; pages get the desk's own 403 page (templates/403.html)."""
    if _is_api(request):
        return _json_error("permission_denied", _("You may not do this."), 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: unknown URLs under /api/ answer JSON."""
    if _is_api(request):
        return _json_error("not_found", _("Not found."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: under /api/ a JSON body (the error itself is logged by Django)."""
    if _is_api(request):
        return _json_error("server_error", _("Internal error."), 500)
    return defaults.server_error(request)
