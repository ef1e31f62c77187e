"""The dashboard's filters (date range, channel, stage), shared by the page, its CSV export
and `GET /api/v1/sla/summary/`, so a figure means the same everywhere."""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.models import Channel
from servicedesk.timewindow import DayField
from tickets.choices import Stage
from tickets.reports import DEFAULT_RANGE_DAYS, DashboardFilters, default_filters

MAX_RANGE_DAYS = 366  # a year of daily rows is the most a chart and a query should carry


class DashboardFilterForm(forms.Form):
    """`from` and `to` (desk dates, default the last 30 days), `channel` (slug) and `stage`.

    `filters()` turns valid input into `DashboardFilters`; invalid input leaves the form with
    its errors (the page shows them, the API answers 400)."""

    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label=_("All channels"),
    )
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=[("", _("All stages")), *Stage.choices],
        required=False,
    )

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        # `from` is a Python keyword, so these two fields are added by name.
        date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields = {
            "from": DayField(label=_("From"), required=False, widget=date_widget),
            "to": DayField(label=_("To"), required=False, widget=date_widget),
            **self.fields,
        }

    def clean(self) -> dict[str, Any]:
        """A missing end is today, a missing start 30 days before the end (both included)."""
        cleaned = super().clean()
        if "from" in self.errors or "to" in self.errors:
            return cleaned
        date_to = cleaned.get("to") or default_filters(self.now).date_to
        date_from = cleaned.get("from") or date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if date_from > date_to:
            self.add_error("to", _("The end of the range lies before its start."))
        elif (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            self.add_error(
                "from", _("The range may span at most %(days)s days.") % {"days": MAX_RANGE_DAYS}
            )
        cleaned["from"], cleaned["to"] = date_from, date_to
        return cleaned

    def filters(self) -> DashboardFilters:
        """The validated filters. Call only after `is_valid()` returned True."""
        channel = self.cleaned_data.get("channel")
        return DashboardFilters(
            date_from=self.cleaned_data["from"],
            date_to=self.cleaned_data["to"],
            channel_id=channel.pk if channel else None,
            stage=self.cleaned_data.get("stage") or None,
        )
