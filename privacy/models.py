"""Erasures (Art. 17) and the posts they suppress, the access audit, retention policies."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from privacy.choices import OPEN_ERASURE_STATUSES, AccessKind, ErasureStatus, RetentionKind


class ErasureRequest(models.Model):
    """One erasure of one customer: requested by one person, confirmed by another (four
    eyes), run in batches (resumable: `status` stays running until every step is done) and
    audited with the rows it changed per table (`counts`)."""

    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    reason = models.TextField(_("reason"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ErasureStatus.choices, default=ErasureStatus.REQUESTED
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("rows changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=OPEN_ERASURE_STATUSES),
                name="erasure_one_open_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"erasure #{self.pk} of customer {self.customer_id}"


class ErasedPost(models.Model):
    """A post of an erased person, known only by a keyed hash of channel and external id,
    so that a poller or bridge delivering it again stores nothing."""

    key = models.CharField(max_length=64, unique=True)  # hex HMAC-SHA256
    mention_id = models.BigIntegerField()  # the tombstone row
    # the erasure, or none for the retention sweep
    erasure = models.ForeignKey(
        ErasureRequest, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("erased post")
        verbose_name_plural = _("erased posts")

    def __str__(self) -> str:
        return f"erased post {self.key[:12]}…"


class AccessLog(models.Model):
    """Who saw which customer, ticket, export or search result, when. Append-only: written
    in one INSERT after the answer went out, never changed; read per customer and per user
    through its two indexes."""

    user_id = models.BigIntegerField(null=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AccessKind.choices)
    customer_id = models.BigIntegerField(null=True)
    ticket_id = models.BigIntegerField(null=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("access audit entry")
        verbose_name_plural = _("access audit")
        indexes = [
            models.Index(fields=["customer_id", "at"], name="accesslog_customer"),
            models.Index(fields=["user_id", "at"], name="accesslog_user"),
            models.Index(fields=["ticket_id", "at"], name="accesslog_ticket"),
            models.Index(fields=["at"], name="accesslog_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.user_id} at {self.at:%Y-%m-%d %H:%M}"


class RetentionPolicy(models.Model):
    """How long one kind of data is kept (superusers edit it; the beat sweep applies it)."""

    kind = models.CharField(_("kind"), max_length=32, choices=RetentionKind.choices, unique=True)
    keep_days = models.PositiveIntegerField(_("keep for (days)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")

    def __str__(self) -> str:
        return f"{self.kind}: {self.keep_days} days"
