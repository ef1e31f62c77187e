"""Report facts: the daily counts behind the team lead's dashboard, kept by PostgreSQL
triggers (migration tickets/0006_report_facts; SQL functions named sd_*)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReportFact(models.Model):
    """Daily counts behind the team-lead dashboard (`tickets/reports.py`), written by
    PostgreSQL triggers in the same transaction as the change they count (migration 0006,
    `tickets/facts.py`): when a clock stops, is cancelled or breached, a ticket is resolved, a
    reply is sent or a mention arrives, the rows of its facts are added with n = +1, and the
    rows of what it was before with n = -1. A figure is the sum of `n` over its rows, so it is
    exact at every moment; `tickets.facts.compact()` merges the added rows into one row per key
    now and then (beat), which changes no sum.

    Keys: the desk day (Europe/Berlin) the fact belongs to, the ticket's channel (each fact
    is written once more with channel 0, `facts.ALL_CHANNELS`, for figures over all), the metric
    (`tickets.facts.Metric`), the clock kind ("" if none), a person (0 if none), and one or two
    values: the duration bucket (`sd_duration_bucket`) of a time, or a ticket's transitions
    and hand-overs. Percentiles locate their rank in the buckets here, then read the exact
    value from the few source rows of that one bucket."""

    day = models.DateField(_("day"))
    channel_id = models.BigIntegerField(_("channel"))
    metric = models.CharField(_("metric"), max_length=24)
    kind = models.CharField(_("kind"), max_length=32, default="", blank=True)
    person_id = models.BigIntegerField(_("person"), default=0)
    value = models.IntegerField(_("value"), default=0)
    value2 = models.IntegerField(_("second value"), default=0)
    n = models.IntegerField(_("count"))
    compacted = models.BooleanField(_("compacted"), default=False)

    class Meta:
        verbose_name = _("report fact")
        verbose_name_plural = _("report facts")
        indexes = [
            models.Index(
                fields=["metric", "channel_id", "day"],
                name="reportfact_metric_channel_day",
                include=["kind", "person_id", "value", "value2", "n"],
            ),
            models.Index(fields=["day"], name="reportfact_added", condition=Q(compacted=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "day", "channel_id", "kind", "person_id", "value", "value2"],
                condition=Q(compacted=True),
                name="reportfact_unique_compacted",
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.n:+d}"
