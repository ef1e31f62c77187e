"""People on the desk (issue 16): their presence, capacity and skills (`StaffMember`), the
weekly roster with its duties (`Shift`), out-of-office periods with a stand-in (`Absence`) and
the desk's routing switch (`RoutingSettings`).

Written only by `staffing.actions`. The ticket side of routing (which case goes to whom) is
`tickets.actions.routing`, which reads these rows and locks `StaffMember` rows to decide.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from staffing.choices import Duty, PresenceSource, PresenceStatus, Weekday


class RoutingSettings(models.Model):
    """The desk's routing switch and limits: one row (pk 1), created on first read."""

    auto_assign = models.BooleanField(_("assign support cases automatically"), default=False)
    max_open_per_agent = models.PositiveSmallIntegerField(
        _("max. open cases per agent"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    away_after_minutes = models.PositiveSmallIntegerField(
        _("away after minutes without a request"), default=10
    )
    offline_after_minutes = models.PositiveSmallIntegerField(
        _("offline after minutes without a request"), default=60
    )
    review_escalation_percent = models.PositiveSmallIntegerField(
        _("escalate a review after this share of the remaining SLA time (%)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")

    def __str__(self) -> str:
        return str(_("routing settings"))


class StaffMember(models.Model):
    """One person of the desk: presence, capacity and skills. Routing locks this row (in
    user id order) before it counts the person's cases, so two routers never overfill one
    agent and a presence change never races an assignment."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="staff_member",
    )
    status = models.CharField(
        _("presence"), max_length=16, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    status_source = models.CharField(
        max_length=16, choices=PresenceSource.choices, default=PresenceSource.USER
    )
    status_changed_at = models.DateTimeField(_("presence changed at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last request at"), null=True, blank=True)
    last_assigned_at = models.DateTimeField(_("last assignment at"), null=True, blank=True)
    # Capacity: None means the desk's max_open_per_agent.
    max_open = models.PositiveSmallIntegerField(
        _("max. open cases"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # Skills narrow the choice where set; empty means "any".
    languages = ArrayField(
        models.CharField(max_length=16), blank=True, default=list, verbose_name=_("languages")
    )
    departments = ArrayField(
        models.SlugField(max_length=64), blank=True, default=list, verbose_name=_("departments")
    )
    channels = ArrayField(
        models.SlugField(max_length=64), blank=True, default=list, verbose_name=_("channels")
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        indexes = [models.Index(fields=["status"], name="staffmember_status")]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class Shift(models.Model):
    """A recurring weekly shift (weekday set) or a one-off shift on a date (an exception
    that adds duty). Times are desk time (Europe/Berlin); a shift ending at or before its
    start runs past midnight."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    duty = models.CharField(_("duty"), max_length=16, choices=Duty.choices)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, null=True, blank=True
    )
    on_date = models.DateField(_("on date"), null=True, blank=True)
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["weekday", "on_date", "starts", "user_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__isnull=False, on_date__isnull=True)
                | Q(weekday__isnull=True, on_date__isnull=False),
                name="shift_weekday_or_date",
            )
        ]
        indexes = [
            models.Index(fields=["weekday", "duty"], name="shift_weekday_duty"),
            models.Index(fields=["on_date"], name="shift_on_date"),
        ]

    def __str__(self) -> str:
        when = self.get_weekday_display() if self.weekday is not None else self.on_date
        return f"{self.user} {self.duty} {when} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Absence(models.Model):
    """Out of office from `starts_on` to `ends_on` (inclusive): the person has no duty then;
    the stand-in, if named, takes over the person's shifts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    stand_in = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stand_in_for",
        verbose_name=_("stand-in"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="absence_range"
            )
        ]
        indexes = [models.Index(fields=["ends_on", "starts_on"], name="absence_range_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on}–{self.ends_on}"
