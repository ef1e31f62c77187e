"""In-app notifications (and, where asked, their e-mails)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import NotificationKind
from tickets.models.tickets import Ticket


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)

    def for_user(self, user: Any) -> "NotificationQuerySet":
        return self.filter(user=user)


class Notification(models.Model):
    """An in-app message to one user (SLA warnings and breaches, reviews, follow-ups)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(_("text"))
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Idempotency of notifications created by sweeps: one per (user, key).
    dedupe_key = models.CharField(max_length=128, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_time"),
            models.Index(
                fields=["user"], name="notification_unread", condition=Q(read_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_unique_dedupe",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
