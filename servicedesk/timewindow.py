"""The window of dates and times the desk accepts from people and clients (issue 18).

Python's dates end at 9999-12-31 and start at 0001-01-01: a day added to the one or an
offset taken from the other raises OverflowError, and year 1 is no RFC 3339 timestamp. Every
date and time a user or client sends therefore passes one of these checks, so it answers 400
(the API) or a form error (pages) instead of a 500. The window is wide enough for every real
case and narrow enough for any arithmetic the reports do on it.
"""

from datetime import UTC, date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
EARLIEST_MOMENT = datetime.combine(EARLIEST_DAY, time.min, tzinfo=UTC)
LATEST_MOMENT = datetime.combine(LATEST_DAY, time.max, tzinfo=UTC)

OUT_OF_WINDOW = _("Enter a date between %(earliest)s and %(latest)s.")


def _message() -> str:
    return str(OUT_OF_WINDOW % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY})


def validate_day(value: date | None) -> None:
    """Refuse (ValidationError, code `out_of_range`) a date outside the window."""
    if value is not None and not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValidationError(_message(), code="out_of_range")


def validate_moment(value: datetime | None) -> None:
    """Refuse an aware (or naive: taken as UTC) time outside the window."""
    if value is None:
        return
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    # Compared as aware datetimes: no conversion, so no overflow at the edges of Python's range.
    if not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
        raise ValidationError(_message(), code="out_of_range")


def parse_moment(value: str) -> datetime:
    """An ISO 8601 time with a UTC offset inside the window (query parameters); refuses
    ValidationError for a malformed or naive time or one outside the window."""
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationError(
            _("Enter an ISO 8601 date and time with a UTC offset."), code="invalid"
        )
    validate_moment(parsed)
    return parsed


class DayField(forms.DateField):
    """A form date inside the window."""

    default_validators = [validate_day]


class DayInput(serializers.DateField):
    """An API date inside the window (400 with a field error outside it)."""

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        _refuse_outside(validate_day, day)
        return day


def _refuse_outside(check: Any, value: Any) -> None:
    try:
        check(value)
    except ValidationError as error:
        raise serializers.ValidationError(error.messages, code="out_of_range") from error
