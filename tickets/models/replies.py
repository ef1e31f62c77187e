"""Replies to mentions and their four-eyes review (DESIGN §3.2).

`Reply.status` changes only through the django-fsm transitions below; tickets.actions.replies
(review) and tickets.outbox (delivery) call them inside a locked transaction and save.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from tickets.choices import ReplyKind, ReplyStatus, ReplyVisibility
from tickets.models.tickets import Ticket


class ReplyQuerySet(models.QuerySet["Reply"]):
    def sent(self) -> "ReplyQuerySet":
        return self.filter(status=ReplyStatus.SENT)

    def pending_review(self) -> "ReplyQuerySet":
        return self.filter(status=ReplyStatus.PENDING_REVIEW)

    def due_for_delivery(self, now: datetime) -> "ReplyQuerySet":
        """Approved replies whose (next) attempt has come: what the outbox sweep sends."""
        return self.filter(status=ReplyStatus.APPROVED, next_attempt_at__lte=now)


class Reply(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A reply to one mention of a ticket, reviewed by a second person before it is sent.

    `status` changes only through the transitions below (draft → pending_review → approved →
    sending → sent; reject → draft; failed → retry). Only the author edits, only in draft.
    A reply that becomes `sent` adds its report facts by trigger (migration
    tickets/0006_report_facts).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replies")
    in_reply_to_mention = models.ForeignKey(
        "monitoring.Mention", on_delete=models.PROTECT, related_name="replies"
    )
    visibility = models.CharField(_("visibility"), max_length=16, choices=ReplyVisibility.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=ReplyKind.choices)
    text = models.TextField(_("text"))
    template = models.ForeignKey(
        "guidelines.ReplyTemplate", null=True, blank=True, on_delete=models.SET_NULL
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_replies"
    )
    status = FSMField(
        _("status"), choices=ReplyStatus.choices, default=ReplyStatus.DRAFT, protected=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_replies",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Review routing (issue 16): asked first (the on-duty reviewer), and when the request
    # goes to every reviewer if still not approved (a share of the remaining SLA time).
    review_requested_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("review asked of"),
    )
    review_escalate_at = models.DateTimeField(null=True, blank=True)
    review_escalated_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    platform_id = models.CharField(_("platform id"), max_length=255, blank=True)
    permalink = models.URLField(_("permalink"), max_length=2048, blank=True)
    # Issue 15, point 7: why the approver let personal data through in a public reply, and
    # whether the last rejection was for personal data (such a draft stays out of search).
    personal_data_override = models.TextField(
        _("personal data override reason"), blank=True, db_default=""
    )
    rejected_for_personal_data = models.BooleanField(_("rejected for personal data"), default=False)

    objects = ReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["submitted_at"],
                name="reply_review_queue",
                condition=Q(status=ReplyStatus.PENDING_REVIEW),
            ),
            models.Index(
                fields=["review_escalate_at"],
                name="reply_review_escalation",
                condition=Q(status=ReplyStatus.PENDING_REVIEW, review_escalated_at__isnull=True),
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="reply_outbox_due",
                condition=Q(status=ReplyStatus.APPROVED),
            ),
            models.Index(
                fields=["sending_started_at"],
                name="reply_sending",
                condition=Q(status=ReplyStatus.SENDING),
            ),
            models.Index(fields=["ticket", "status", "kind"], name="reply_ticket_status"),
            # The review queue's "Delivery failed" list, in the default order.
            models.Index(
                fields=["created_at", "id"],
                name="reply_failed",
                condition=Q(status=ReplyStatus.FAILED),
            ),
        ]
        constraints = [
            # A platform id belongs to one reply of a channel's platform; duplicates mean a
            # second post, which the outbox must never make.
            models.UniqueConstraint(
                fields=["ticket", "platform_id"],
                condition=~Q(platform_id=""),
                name="reply_unique_platform_id",
            )
        ]

    def __str__(self) -> str:
        return f"reply #{self.pk}"

    @transition(field=status, source=ReplyStatus.DRAFT,
                target=RETURN_VALUE(ReplyStatus.PENDING_REVIEW, ReplyStatus.APPROVED))  # fmt: skip
    def submit(self, *, needs_review: bool, at: datetime) -> str:
        self.submitted_at = at
        if needs_review:
            return ReplyStatus.PENDING_REVIEW
        self.approved_at = at
        self.next_attempt_at = at
        return ReplyStatus.APPROVED

    @transition(field=status, source=ReplyStatus.PENDING_REVIEW, target=ReplyStatus.APPROVED)
    def approve(self, *, reviewer: Any, at: datetime) -> None:
        self.reviewer = reviewer
        self.reviewed_at = at
        self.approved_at = at
        self.next_attempt_at = at

    @transition(field=status, source=ReplyStatus.PENDING_REVIEW, target=ReplyStatus.DRAFT)
    def reject(self, *, reviewer: Any, comment: str, at: datetime) -> None:
        self.reviewer = reviewer
        self.reviewed_at = at
        self.review_comment = comment

    @transition(field=status, source=ReplyStatus.APPROVED, target=ReplyStatus.SENDING)
    def start_sending(self, *, at: datetime) -> None:
        self.attempts += 1
        self.sending_started_at = at

    @transition(field=status, source=ReplyStatus.SENDING, target=ReplyStatus.SENT)
    def mark_sent(self, *, platform_id: str, permalink: str, at: datetime) -> None:
        self.platform_id = platform_id
        self.permalink = permalink
        self.sent_at = at
        self.last_error = ""
        self.next_attempt_at = None

    @transition(field=status, source=ReplyStatus.SENDING, target=ReplyStatus.APPROVED)
    def schedule_retry(self, *, error: str, next_attempt_at: datetime) -> None:
        self.last_error = error
        self.next_attempt_at = next_attempt_at

    @transition(field=status, source=ReplyStatus.SENDING, target=ReplyStatus.FAILED)
    def mark_failed(self, *, error: str) -> None:
        self.last_error = error
        self.next_attempt_at = None

    @transition(field=status, source=ReplyStatus.FAILED, target=ReplyStatus.APPROVED)
    def retry(self, *, at: datetime) -> None:
        self.next_attempt_at = at

    # Posted by hand: on channels that cannot post (approved), or after a failed delivery.
    @transition(field=status, source=(ReplyStatus.APPROVED, ReplyStatus.FAILED),
                target=ReplyStatus.SENT)  # fmt: skip
    def confirm_posted(self, *, permalink: str, at: datetime) -> None:
        self.permalink = permalink
        self.sent_at = at
        self.next_attempt_at = None
