"""Specialist departments (Fachabteilungen) and the internal requests agents send them."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicedesk import roles
from tickets.choices import DepartmentRequestStatus
from tickets.models.tickets import Ticket


class Department(models.Model):
    """A specialist department (Fachabteilung) that answers internal requests."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    experts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="departments", verbose_name=_("experts")
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DepartmentRequestQuerySet(models.QuerySet["DepartmentRequest"]):
    def visible_to(self, user: Any) -> "DepartmentRequestQuerySet":
        """Desk staff see every request; an expert only those addressed to his departments."""
        if roles.sees_all_tickets(user):
            return self.all()
        if roles.is_department_expert(user):
            return self.filter(department__experts=user)
        return self.none()

    def open(self) -> "DepartmentRequestQuerySet":
        return self.filter(status=DepartmentRequestStatus.OPEN)


class DepartmentRequest(models.Model):
    """An internal request (Rückfrage) from an agent to a department, marked as social web.

    The expert sees the question and only the mentions the agent chose to share. Sending and
    answering add report facts by trigger (migration tickets/0006_report_facts).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="department_requests")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="requests")
    question = models.TextField(_("question"))
    shared_mentions = models.ManyToManyField("monitoring.Mention", blank=True, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"))
    due_at = models.DateTimeField(_("answer due at"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DepartmentRequestStatus.choices,
        default=DepartmentRequestStatus.OPEN,
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.TextField(blank=True)

    objects = DepartmentRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("department request")
        verbose_name_plural = _("department requests")
        indexes = [
            models.Index(
                fields=["department", "due_at"],
                name="deptrequest_open",
                condition=Q(status=DepartmentRequestStatus.OPEN),
            ),
            models.Index(fields=["department", "created_at"], name="deptrequest_history"),
        ]

    def __str__(self) -> str:
        return f"request #{self.pk} to {self.department_id}"
