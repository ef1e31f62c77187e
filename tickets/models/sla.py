"""SLA policies, clocks and breaches (DESIGN §4).

A clock's deadlines are fixed when it starts (tickets.actions.clocks). The SLA sweep
(tickets.actions.sweep) records warnings and breaches; a late stop records its own breach.
PostgreSQL keeps two things here by trigger (migration tickets/0006_report_facts): the
DB-only column `tickets_slaclock.is_breached` (set when a breach row is inserted, so a stop
and a breach of one clock serialise on its row) and the report facts of every clock stopped,
cancelled or breached.
"""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import SlaKind
from tickets.models.departments import Department, DepartmentRequest
from tickets.models.tickets import Ticket


class SlaPolicy(models.Model):
    """The target of one kind of clock (optionally for one department). Read when a clock
    starts; a change applies to clocks started after it."""

    kind = models.CharField(_("kind"), max_length=32, choices=SlaKind.choices)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    target_seconds = models.PositiveIntegerField(_("target (seconds)"))
    warn_percent = models.PositiveSmallIntegerField(_("warning at (% of target)"), default=80)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(department__isnull=True), name="slapolicy_unique_kind"
            ),
            models.UniqueConstraint(
                fields=["kind", "department"],
                condition=Q(department__isnull=False),
                name="slapolicy_unique_kind_department",
            ),
            models.CheckConstraint(
                condition=Q(warn_percent__gte=1) & Q(warn_percent__lte=100),
                name="slapolicy_warn_percent_range",
            ),
            models.CheckConstraint(condition=Q(target_seconds__gte=1), name="slapolicy_target"),
        ]

    def __str__(self) -> str:
        suffix = f" ({self.department})" if self.department_id else ""
        return f"{self.get_kind_display()}{suffix}"


def _breach_recorded() -> models.Exists:
    """EXISTS a breach row of the clock (for the few clocks a filter leaves, a probe of the
    breach index each)."""
    return models.Exists(SlaBreach.objects.filter(clock=models.OuterRef("pk")))


class SlaClockQuerySet(models.QuerySet["SlaClock"]):
    def running(self) -> "SlaClockQuerySet":
        return self.filter(stopped_at__isnull=True)

    def overdue(self, now: datetime) -> "SlaClockQuerySet":
        """Running clocks past their deadline (`now > due_at`) whose breach is not recorded.
        NOT EXISTS rather than a left join: with a month of breach rows the planner then
        probes the breach index for the few overdue clocks (3 ms over 1M tickets) instead of
        hashing every breach (55 ms per sweep; bench/sla_sweep.py)."""
        return self.running().filter(~_breach_recorded(), due_at__lt=now)

    def warn_due(self, now: datetime) -> "SlaClockQuerySet":
        """Running clocks at or past their warning time that were not warned yet."""
        return self.running().filter(warn_at__lte=now, warned_at__isnull=True)

    def at_risk(self, now: datetime) -> "SlaClockQuerySet":
        """Running clocks that were warned, are not breached and not past their deadline.
        NOT EXISTS, like `overdue`: the few warned clocks probe the breach index."""
        return self.running().filter(~_breach_recorded(), warned_at__isnull=False, due_at__gte=now)

    def breached_running(self, now: datetime) -> "SlaClockQuerySet":
        """Live breaches: running clocks past their deadline (breach recorded or not yet)."""
        return self.running().filter(due_at__lt=now)

    def with_outcome(self) -> "SlaClockQuerySet":
        """Clocks that were met or breached: stopped (not cancelled) or breached."""
        return self.filter(
            Q(stopped_at__isnull=False, is_cancelled=False) | Q(breach__isnull=False)
        )


class SlaClock(models.Model):
    """One service-level clock of a ticket. Its deadlines never change once it has started.

    A clock stopped by dismissal or replaced by another kind is `is_cancelled`: it has no
    outcome of its own, but a breach recorded before stays.

    PostgreSQL keeps two things of it by trigger (migration tickets/0006_report_facts): the
    report facts of its outcome (stopped, cancelled, breached), and the database-only column
    `is_breached` (not in this model, so no save can write it back stale), set when its
    breach row is inserted, so a stop and a breach of the same clock serialise on its row.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(_("kind"), max_length=32, choices=SlaKind.choices)
    department_request = models.ForeignKey(
        DepartmentRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="clocks"
    )
    started_at = models.DateTimeField(_("started at"))
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warning at"))
    due_at = models.DateTimeField(_("due at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    # The author of the sent reply that stopped this response clock (per-person times).
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [
            # The sweep reads running clocks by deadline; a stopped clock leaves the index.
            models.Index(
                fields=["due_at"], name="slaclock_running_due", condition=Q(stopped_at__isnull=True)
            ),
            models.Index(
                fields=["warn_at"],
                name="slaclock_running_warn",
                condition=Q(stopped_at__isnull=True, warned_at__isnull=True),
            ),
            models.Index(fields=["ticket", "kind"], name="slaclock_ticket_kind"),
            models.Index(fields=["kind", "started_at"], name="slaclock_kind_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of #{self.ticket_id}"


class SlaBreach(models.Model):
    """A clock that ran past its deadline: one row per clock, whichever path saw it first.
    Inserting one sets the clock's `is_breached` and its breach facts by trigger."""

    clock = models.OneToOneField(SlaClock, on_delete=models.CASCADE, related_name="breach")
    due_at = models.DateTimeField(_("due at"))  # the clock's true deadline, even when late
    detected_at = models.DateTimeField(_("detected at"))

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        indexes = [models.Index(fields=["detected_at"], name="slabreach_detected")]

    def __str__(self) -> str:
        return f"breach of clock {self.clock_id}"
