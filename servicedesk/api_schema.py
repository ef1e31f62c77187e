"""The OpenAPI schema class: drf-spectacular's AutoSchema plus the error answers of DESIGN §6."""

from typing import Any

from drf_spectacular import openapi
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The error body of DESIGN §6."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.JSONField(help_text="{field: [messages]}; for a batch [{index, errors}]")


# Which error answers an operation may give, by HTTP method.
READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 429)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema that documents the error answers of DESIGN §6 on every
    operation (unless the view documents them itself)."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = READ_ERRORS if self.method in ("GET", "HEAD") else WRITE_ERRORS
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    ErrorSerializer, str(code), direction=direction
                )
        return responses
