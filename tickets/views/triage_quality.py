"""Team lead page "Triage-Qualität" (issue 13 §5): per head the accuracy and macro-F1 of the
suggestions against the people's decisions (triage labels) in a chosen date range, the
confusion matrix, and whether the head's suggestions came from the rules or a model."""

from datetime import datetime, time, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from servicedesk import roles
from servicedesk.timewindow import DayField
from servicedesk.web import role_required
from triage.model_versions import model_versions_context
from triage.quality import quality_in_range

DEFAULT_DAYS = 30
HEAD_LABELS = {
    "relevant": _lazy("Service-relevant"),
    "route": _lazy("Route"),
    "department": _lazy("Department"),
    "tonality": _lazy("Tonality"),
    "abusive": _lazy("Abusive"),
}


class QualityRangeForm(forms.Form):
    date_from = DayField(label=_lazy("From"))
    date_to = DayField(label=_lazy("To"))

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_lazy("The start date is after the end date."))
        return data


def _day_start(day: object) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))  # type: ignore[arg-type]


@role_required(roles.is_team_lead)
@require_GET
def triage_quality(request: HttpRequest) -> HttpResponse:
    """`?date_from=YYYY-MM-DD&date_to=YYYY-MM-DD` (both days included; default the last 30
    days); a bad or reversed range answers 400 with the form's errors."""
    today = timezone.localdate()
    if "date_from" in request.GET or "date_to" in request.GET:
        form = QualityRangeForm(request.GET)
    else:
        form = QualityRangeForm(
            {"date_from": today - timedelta(days=DEFAULT_DAYS - 1), "date_to": today}
        )
    if not form.is_valid():
        return render(
            request,
            "tickets/triage_quality.html",
            {"form": form, "heads": [], **model_versions_context()},
            status=400,
        )
    start = _day_start(form.cleaned_data["date_from"])
    end = _day_start(form.cleaned_data["date_to"] + timedelta(days=1))
    heads = quality_in_range(start, end)
    for quality in heads:
        quality.label = HEAD_LABELS.get(quality.head, quality.head)  # type: ignore[attr-defined]
    return render(
        request,
        "tickets/triage_quality.html",
        {"form": form, "heads": heads, **model_versions_context()},
    )
