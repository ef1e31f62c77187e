"""Incidents (issue 14): a burst of near-identical complaints handled as one case, with its
member mentions, its public statements and their per-member deliveries.

`Incident.state` changes only through the transition below and `IncidentStatement.status`
only through its own; tickets.actions.incidents calls them inside a locked transaction and
saves. A mention belongs to at most one incident; a statement reaches each member mention at
most once (its delivery row is unique per statement and mention), through one `Reply` that
the outbox sends exactly once.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from tickets.choices import IncidentState, StatementKind, StatementStatus
from tickets.models.replies import Reply
from tickets.models.tickets import Ticket


class IncidentQuerySet(models.QuerySet["Incident"]):
    def open(self) -> "IncidentQuerySet":
        return self.filter(state=IncidentState.OPEN)

    def opened_between(self, start: datetime, end: datetime) -> "IncidentQuerySet":
        return self.filter(opened_at__gte=start, opened_at__lt=end)


class Incident(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One outage or scandal: many mentions, answered as one.

    Opened by the burst detector (`detected`, with its cluster, reasons and volume) or by a
    person. `state` changes only through `close`. `alerted_at` is set once, by the action
    that sends the opening alert (compare-and-set), so retries alert nobody twice.
    """

    title = models.CharField(_("title"), max_length=200)
    state = FSMField(
        _("state"), choices=IncidentState.choices, default=IncidentState.OPEN, protected=True
    )
    detected = models.BooleanField(_("detected"), default=False)
    # The detector's cluster (triage.bursts); one incident per cluster, so a replay of the
    # same traffic finds the same incident.
    cluster_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(_("started at"))  # created_at of its first member post
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(default=list, blank=True)
    terms = models.JSONField(default=list, blank=True)
    locations = models.JSONField(default=list, blank=True)
    volume_per_minute = models.FloatField(_("volume per minute"), default=0)
    baseline_per_minute = models.FloatField(_("baseline per minute"), default=0)
    summary = models.TextField(_("summary"), blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at", "-id"]
        indexes = [
            # The banner on every page asks for the open incidents.
            models.Index(
                fields=["opened_at"], name="incident_open", condition=Q(state=IncidentState.OPEN)
            ),
            models.Index(fields=["opened_at"], name="incident_opened"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster_id"],
                condition=Q(cluster_id__isnull=False),
                name="incident_unique_cluster",
            )
        ]

    def __str__(self) -> str:
        return f"incident #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == IncidentState.OPEN

    @transition(field=state, source=IncidentState.OPEN, target=IncidentState.CLOSED)
    def close(self, *, by: Any, summary: str, at: datetime) -> None:
        self.closed_by = by
        self.closed_at = at
        self.summary = summary


class IncidentMember(models.Model):
    """A mention (and its ticket) that belongs to an incident; a mention joins one at most."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="members")
    mention = models.OneToOneField(
        "monitoring.Mention", on_delete=models.CASCADE, related_name="incident_membership"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(_("joined at"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("incident member")
        verbose_name_plural = _("incident members")
        ordering = ["joined_at", "id"]
        indexes = [models.Index(fields=["incident", "ticket"], name="incidentmember_ticket")]

    def __str__(self) -> str:
        return f"mention {self.mention_id} in incident {self.incident_id}"


class IncidentStatement(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A public statement of an incident, written once (with the placeholders of the reply
    templates: {name}, {handle}, {agent}) and approved once by a second person (never its
    author); then sent to every member mention as its own reply. The active holding statement
    (the newest approved one while the incident is open) also goes to members that join
    later."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="statements")
    kind = models.CharField(_("kind"), max_length=16, choices=StatementKind.choices)
    text = models.TextField(_("text"))
    status = FSMField(
        _("status"),
        choices=StatementStatus.choices,
        default=StatementStatus.PENDING_APPROVAL,
        protected=True,
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident statement")
        verbose_name_plural = _("incident statements")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} statement #{self.pk}"

    @transition(
        field=status, source=StatementStatus.PENDING_APPROVAL, target=StatementStatus.APPROVED
    )
    def approve(self, *, by: Any, at: datetime) -> None:
        self.approved_by = by
        self.approved_at = at


class IncidentDelivery(models.Model):
    """One statement to one member mention: the reply the outbox sends. Unique per statement
    and mention, so neither a retry nor a late join sends a statement twice."""

    statement = models.ForeignKey(
        IncidentStatement, on_delete=models.CASCADE, related_name="deliveries"
    )
    mention = models.ForeignKey("monitoring.Mention", on_delete=models.CASCADE, related_name="+")
    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="incident_delivery")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("statement delivery")
        verbose_name_plural = _("statement deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "mention"], name="incidentdelivery_unique_mention"
            )
        ]

    def __str__(self) -> str:
        return f"statement {self.statement_id} to mention {self.mention_id}"
