"""Shared API plumbing: the error format of DESIGN §6, pagination and rate limits.

Errors are JSON `{"code", "detail", "errors"}`: 401 no or bad credentials, 404 not visible,
403 the role may not act, 409 wrong state / failed guard / conflict, 400 invalid input,
413 body too large. Never an HTML page, never a 500 for bad input.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
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
            _body("too_large", "The request body is larger than 16 MiB."),
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
        response.data = _body("invalid", "Invalid input.", _field_errors(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if not isinstance(exc.detail, dict | list) else "Error."
        response.data = _body(exc.default_code, detail)
    return response
