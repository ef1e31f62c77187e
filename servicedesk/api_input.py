"""Strict JSON types for API input (issue 18, point 7).

DRF's fields coerce: a CharField takes 12 and stores "12", a BooleanField takes "yes" and 1,
an IntegerField takes "12". For a JSON API that hides client bugs, so every input serializer
of the desk derives from `StrictInput` (or `StrictModelInput`): before DRF validates, each
value of the body is checked against the JSON type its field stands for, nested objects and
lists included, and a value of another type is a 400 with a field error. Query parameters
(a QueryDict, all strings) are not JSON and are left to the fields.
"""

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import relations, serializers
from rest_framework.fields import empty

TYPE_NAMES = {
    "string": _("a string"),
    "integer": _("an integer"),
    "number": _("a number"),
    "boolean": _("true or false"),
    "array": _("an array"),
    "object": _("an object"),
}
WRONG_TYPE = _("Expected %(expected)s, got %(got)s.")


def json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def expected_type(field: serializers.Field) -> str | None:
    """The JSON type a field stands for; None where any value may come (JSONField) or the
    field checks its value itself (custom fields)."""
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        return "array"
    if isinstance(field, serializers.MultipleChoiceField | relations.ManyRelatedField):
        return "array"
    if isinstance(field, serializers.BaseSerializer | serializers.DictField):
        return "object"
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.IntegerField):
        return "integer"
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return "number"
    if isinstance(field, serializers.ChoiceField):
        keys = list(field.choices)
        if keys and all(isinstance(key, int) and not isinstance(key, bool) for key in keys):
            return "integer"
        return "string"
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return "integer"
    if isinstance(
        field,
        serializers.CharField
        | serializers.DateField
        | serializers.DateTimeField
        | serializers.TimeField
        | serializers.DurationField
        | serializers.UUIDField
        | relations.SlugRelatedField,
    ):
        return "string"
    return None


def _matches(expected: str, got: str) -> bool:
    return got == expected or (expected == "number" and got == "integer")


def type_errors(field: serializers.Field, value: Any) -> Any:
    """The errors of `value` against `field` (a list of messages, or a dict/list shaped like
    DRF's own errors for nested input), or None when its types are right."""
    if value is None and getattr(field, "allow_null", False):
        return None
    expected = expected_type(field)
    if expected is None:
        return None
    got = json_type_of(value)
    if not _matches(expected, got):
        return [
            str(
                WRONG_TYPE
                % {"expected": TYPE_NAMES[expected], "got": TYPE_NAMES.get(got, _("null"))}
            )
        ]
    if isinstance(field, serializers.ListSerializer):
        return _item_errors(field.child, value)
    if isinstance(field, serializers.ListField):
        return _item_errors(field.child, value)
    if isinstance(field, relations.ManyRelatedField):
        return _item_errors(field.child_relation, value)
    if isinstance(field, serializers.DictField):
        nested = {key: type_errors(field.child, item) for key, item in value.items()}
        nested = {key: errors for key, errors in nested.items() if errors}
        return nested or None
    if isinstance(field, serializers.Serializer):
        return serializer_type_errors(field, value) or None
    return None


def _item_errors(child: serializers.Field, values: list[Any]) -> Any:
    errors = {index: type_errors(child, item) for index, item in enumerate(values)}
    errors = {index: item for index, item in errors.items() if item}
    return errors or None


def serializer_type_errors(serializer: serializers.Serializer, data: Mapping[str, Any]) -> dict:
    errors = {}
    for field in serializer._writable_fields:
        value = field.get_value(data)
        if value is empty:
            continue
        problem = type_errors(field, value)
        if problem:
            errors[field.field_name] = problem
    return errors


class StrictInputMixin:
    """Refuse JSON values of the wrong type before DRF's fields would coerce them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = serializer_type_errors(self, data)  # type: ignore[arg-type]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictInput(StrictInputMixin, serializers.Serializer):
    """The base of every input serializer of the API."""


class StrictModelInput(StrictInputMixin, serializers.ModelSerializer):
    """The base of every model serializer that also reads input (channels)."""
