"""The API's JSON parser and renderer (DESIGN §6: bodies up to 16 MiB, never a 500 for input).

Kept apart from servicedesk.api: DRF imports these while it builds APIView, so this module
must not import rest_framework.views.
"""

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, parsers, renderers, status

# --------------------------------------------------------------------------- bodies in and out


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _("The request body is larger than %(mib)s MiB.") % {"mib": limit // (1024 * 1024)}


class RequestBodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is too large.")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class JSONParser(parsers.JSONParser):
    """JSON bodies of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (16 MiB, DESIGN §6).

    DRF reads the request stream itself, past Django's own size check, so the limit is
    enforced here: a larger body answers 413. NaN/Infinity, bodies that are not UTF-8 and
    nesting too deep for the parser answer 400 instead of a 500.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        if request is not None and limit is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestBodyTooLarge(too_large_message())
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestBodyTooLarge(too_large_message())
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.ParseError(_("The body is not valid UTF-8.")) from error
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as error:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from error
        except ValueError as error:
            raise exceptions.ParseError(
                _("The body is not valid JSON: %(error)s") % {"error": error}
            ) from error


class JSONRenderer(renderers.JSONRenderer):
    """DRF's renderer, falling back to ASCII escapes when a string cannot be encoded as UTF-8
    (a lone surrogate echoed in an error message), so such input answers 400, not 500."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            fallback = type(self)()
            fallback.ensure_ascii = True
            return renderers.JSONRenderer.render(
                fallback, data, accepted_media_type, renderer_context
            )
