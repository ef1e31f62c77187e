"""Tickets and their state machine, events, notes, links, replies and their review,
departments and their requests, topics, SLA policies, clocks, breaches and notifications.

Lifecycle fields (`Ticket.state`, `Reply.status`) change only through the django-fsm
transition methods below, which tickets.actions calls inside a locked transaction.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import (
    RETURN_VALUE,
    ConcurrentTransitionMixin,
    FSMField,
    FSMModelMixin,
    transition,
)

from servicedesk import roles
from tickets.choices import (
    CUSTOMER_REPLY_STATES,
    OPEN_STATES,
    STAGE_OF_STATE,
    DepartmentRequestStatus,
    DismissReason,
    LinkKind,
    NotificationKind,
    Priority,
    ReplyKind,
    ReplyStatus,
    ReplyVisibility,
    SlaKind,
    Stage,
    TicketEventKind,
    TicketState,
    states_of_stage,
)
from tickets.sla import FOLLOW_UP_OVERDUE_AFTER

# --------------------------------------------------------------------------- permissions
# Who may fire a transition: predicates (ticket, user) -> bool, used by django-fsm's
# `permission=` and by the actions. Team leads may perform every human transition.


def system_only(ticket: "Ticket", user: Any) -> bool:
    """System transitions are never offered to or performed by people."""
    return False


def _is_lead(user: Any) -> bool:
    return roles.is_team_lead(user)


def is_assignee(ticket: "Ticket", user: Any) -> bool:
    return user is not None and ticket.assignee_id is not None and ticket.assignee_id == user.pk


def may_act_as_cm(ticket: "Ticket", user: Any) -> bool:
    return roles.is_community_manager(user) or _is_lead(user)


def may_act_as_agent(ticket: "Ticket", user: Any) -> bool:
    return roles.is_support_agent(user) or _is_lead(user)


def may_act_as_assignee(ticket: "Ticket", user: Any) -> bool:
    """The ticket's assignee (an agent), or a team lead."""
    return _is_lead(user) or (roles.is_support_agent(user) and is_assignee(ticket, user))


def has_sent_answer(ticket: "Ticket") -> bool:
    """Guard of `resolve` and `mark_unsolvable`: a reply of kind answer has been sent."""
    return ticket.replies.filter(status=ReplyStatus.SENT, kind=ReplyKind.ANSWER).exists()


# --------------------------------------------------------------------------- departments


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


class Topic(models.Model):
    """A topic under observation: unsolvable cases name one; later tickets can link to it."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- tickets


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, user: Any) -> "TicketQuerySet":
        """Every ticket for CMs, agents, team leads, superusers and api clients; none else."""
        if roles.sees_all_tickets(user):
            return self.all()
        return self.none()

    def open(self) -> "TicketQuerySet":
        return self.filter(state__in=OPEN_STATES)

    def in_stage(self, stage: str) -> "TicketQuerySet":
        return self.filter(state__in=states_of_stage(stage))

    def follow_up_due(self) -> "TicketQuerySet":
        return self.filter(follow_up_due_at__isnull=False)

    def resubmission_due(self, now: datetime) -> "TicketQuerySet":
        """Wiedervorlagen whose time (08:00 desk time on their date) has come."""
        return self.filter(state=TicketState.RESUBMISSION, resubmission_due_at__lte=now)

    def follow_up_overdue(self, now: datetime) -> "TicketQuerySet":
        """Tickets still flagged "follow-up due" 24 hours after it fell due
        (tickets.sla.is_follow_up_overdue, in SQL)."""
        return self.filter(follow_up_due_at__lte=now - FOLLOW_UP_OVERDUE_AFTER)

    def breached(self) -> "TicketQuerySet":
        """Tickets with any recorded breach."""
        return self.filter(clocks__breach__isnull=False).distinct()

    def at_risk(self, now: datetime) -> "TicketQuerySet":
        """Tickets with a running clock that was warned and is not breached."""
        return self.filter(
            clocks__stopped_at__isnull=True,
            clocks__warned_at__isnull=False,
            clocks__breach__isnull=True,
        ).distinct()


class Ticket(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One customer case: one conversation thread with one customer.

    `state` changes only through the transition methods below; tickets.actions calls them
    inside a locked transaction and saves. `mention_count`, `last_mention_at`, `preview` and
    `sla_due_at` are kept by the intake and the clock actions so queues need no aggregates.
    """

    state = FSMField(
        _("state"), choices=TicketState.choices, default=TicketState.NEW, protected=True
    )
    channel = models.ForeignKey(
        "monitoring.Channel", on_delete=models.PROTECT, related_name="tickets"
    )
    customer = models.ForeignKey("crm.Customer", on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    is_private = models.BooleanField(_("private conversation"), default=False)
    preview = models.CharField(_("preview"), max_length=300, blank=True)
    mention_count = models.PositiveIntegerField(_("mentions"), default=0)
    opened_at = models.DateTimeField(_("opened at"))  # received_at of its first mention
    posted_at = models.DateTimeField(_("posted at"))  # the platform's time of the first mention
    last_mention_at = models.DateTimeField(_("last mention at"))
    state_changed_at = models.DateTimeField(_("state changed at"))
    updated_at = models.DateTimeField(_("updated at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    no_service_case = models.BooleanField(_("no service case"), default=False)
    dismiss_reason = models.CharField(
        _("dismiss reason"), max_length=32, choices=DismissReason.choices, blank=True
    )
    handover_reference = models.CharField(_("hand-over reference"), max_length=255, blank=True)
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    resubmission_on = models.DateField(_("follow-up on"), null=True, blank=True)
    resubmission_due_at = models.DateTimeField(_("follow-up due at"), null=True, blank=True)
    follow_up_due_at = models.DateTimeField(_("flagged follow-up due at"), null=True, blank=True)
    sla_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    starts_clocks = models.BooleanField(default=True)  # false for imported and demo history
    # Kept by every transition (tickets.actions._fire, with its event): the dashboard's process
    # depth reads them instead of counting a month of events.
    transition_count = models.PositiveIntegerField(_("transitions"), default=0, db_default=0)
    handover_count = models.PositiveIntegerField(_("hand-overs"), default=0, db_default=0)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # CM inbox and support queue: open tickets of a state by SLA deadline.
            models.Index(
                fields=["state", "sla_due_at", "opened_at"],
                name="ticket_open_queue",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(
                fields=["assignee", "state"],
                name="ticket_assignee_open",
                condition=Q(state__in=OPEN_STATES),
            ),
            # Wiedervorlage sweep.
            models.Index(
                fields=["resubmission_due_at"],
                name="ticket_resubmission_due",
                condition=Q(state=TicketState.RESUBMISSION),
            ),
            # close_no_response sweep.
            models.Index(
                fields=["state_changed_at"],
                name="ticket_waiting_customer",
                condition=Q(state=TicketState.WAITING_CUSTOMER),
            ),
            # Threading: an open private ticket of an author on a channel.
            models.Index(
                fields=["customer", "channel"],
                name="ticket_customer_channel_open",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(fields=["opened_at"], name="ticket_opened"),
            models.Index(fields=["customer", "-opened_at"], name="ticket_customer_history"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def stage(self) -> Stage | None:
        return STAGE_OF_STATE.get(self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # ---- transitions (in memory only; tickets.actions saves and records the event)

    @transition(field=state, source=TicketState.NEW, target=TicketState.SUPPORT,
                permission=may_act_as_cm)  # fmt: skip
    def assign_to_support(self) -> None:
        pass

    @transition(field=state, source=TicketState.SUPPORT, target=TicketState.NEW,
                permission=may_act_as_agent)  # fmt: skip
    def return_to_cm(self) -> None:
        pass

    @transition(field=state, source=TicketState.SUPPORT, target=TicketState.IN_PROGRESS,
                permission=may_act_as_agent)  # fmt: skip
    def take(self, *, assignee: Any) -> None:
        self.assignee = assignee

    @transition(field=state, source=TicketState.IN_PROGRESS, target=TicketState.SUPPORT,
                permission=may_act_as_assignee)  # fmt: skip
    def release(self) -> None:
        self.assignee = None

    @transition(field=state, source=TicketState.IN_PROGRESS,
                target=TicketState.WAITING_CUSTOMER, permission=may_act_as_assignee)  # fmt: skip
    def request_private_data(self) -> None:
        pass

    @transition(field=state, source=TicketState.IN_PROGRESS,
                target=TicketState.WAITING_DEPARTMENT, permission=may_act_as_assignee)  # fmt: skip
    def ask_department(self) -> None:
        pass

    @transition(field=state, source=TicketState.WAITING_DEPARTMENT,
                target=TicketState.IN_PROGRESS, permission=system_only)  # fmt: skip
    def department_answered(self) -> None:
        pass

    @transition(field=state, source=TicketState.WAITING_DEPARTMENT,
                target=TicketState.IN_PROGRESS, permission=may_act_as_assignee)  # fmt: skip
    def withdraw_department_request(self) -> None:
        pass

    @transition(field=state, source=CUSTOMER_REPLY_STATES,
                target=RETURN_VALUE(TicketState.IN_PROGRESS, TicketState.SUPPORT),
                permission=system_only)  # fmt: skip
    def customer_replied(self) -> str:
        self.resolved_at = None
        self.resubmission_on = None
        self.resubmission_due_at = None
        return TicketState.IN_PROGRESS if self.assignee_id else TicketState.SUPPORT

    @transition(field=state, source=TicketState.WAITING_CUSTOMER, target=TicketState.RESOLVED,
                permission=may_act_as_assignee)  # fmt: skip
    def close_no_response(self, *, at: datetime) -> None:
        self.resolved_at = at

    @transition(field=state, source=TicketState.IN_PROGRESS, target=TicketState.RESUBMISSION,
                permission=may_act_as_assignee)  # fmt: skip
    def schedule_resubmission(self, *, on: Any, due_at: datetime, handover_reference: str) -> None:
        self.resubmission_on = on
        self.resubmission_due_at = due_at
        self.follow_up_due_at = None
        if handover_reference:
            self.handover_reference = handover_reference

    @transition(field=state, source=TicketState.RESUBMISSION, target=TicketState.IN_PROGRESS,
                permission=system_only)  # fmt: skip
    def resubmission_due(self, *, at: datetime) -> None:
        self.follow_up_due_at = at

    # The CM resolves from `new`, the assignee from in_progress and resubmission.
    @transition(field=state, source=TicketState.NEW, target=TicketState.RESOLVED,
                conditions=[has_sent_answer], permission=may_act_as_cm)  # fmt: skip
    @transition(field=state, source=[TicketState.IN_PROGRESS, TicketState.RESUBMISSION],
                target=TicketState.RESOLVED, conditions=[has_sent_answer],
                permission=may_act_as_assignee)  # fmt: skip
    def resolve(self, *, at: datetime) -> None:
        self.resolved_at = at
        self.follow_up_due_at = None

    @transition(field=state, source=TicketState.IN_PROGRESS, target=TicketState.UNSOLVABLE,
                conditions=[has_sent_answer], permission=may_act_as_assignee)  # fmt: skip
    def mark_unsolvable(self, *, topic: Topic, at: datetime) -> None:
        self.topic = topic
        self.resolved_at = at
        self.follow_up_due_at = None

    @transition(field=state, source=TicketState.NEW, target=TicketState.DISMISSED,
                permission=may_act_as_cm)  # fmt: skip
    def dismiss(self, *, reason: str, at: datetime) -> None:
        self.dismiss_reason = reason
        self.resolved_at = at

    # Agents reopen resolved and unsolvable tickets, CMs dismissed ones.
    @transition(field=state, source=TicketState.DISMISSED, target=TicketState.NEW,
                permission=may_act_as_cm)  # fmt: skip
    @transition(field=state, source=[TicketState.RESOLVED, TicketState.UNSOLVABLE],
                target=RETURN_VALUE(TicketState.IN_PROGRESS, TicketState.SUPPORT),
                permission=may_act_as_agent)  # fmt: skip
    def reopen(self) -> str:
        was_dismissed = self.state == TicketState.DISMISSED
        self.resolved_at = None
        self.dismiss_reason = ""
        if was_dismissed:
            return TicketState.NEW
        return TicketState.IN_PROGRESS if self.assignee_id else TicketState.SUPPORT


# The human transitions (offered to people) and the system transitions (never offered).
SYSTEM_TRANSITIONS = frozenset(
    {"department_answered", "customer_replied", "resubmission_due"}
)  # close_no_response is both: the assignee, or the system after N days
# Transitions whose method takes the operation's time as `at`.
TIMED_TRANSITIONS = frozenset(
    {"close_no_response", "resubmission_due", "resolve", "mark_unsolvable", "dismiss"}
)
HUMAN_TRANSITIONS = (
    "assign_to_support",
    "return_to_cm",
    "take",
    "release",
    "request_private_data",
    "ask_department",
    "withdraw_department_request",
    "close_no_response",
    "schedule_resubmission",
    "resolve",
    "mark_unsolvable",
    "dismiss",
    "reopen",
)


class TicketEvent(models.Model):
    """One thing that happened to a ticket. The timeline and the reports read these rows."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=32, choices=TicketEventKind.choices)
    transition = models.CharField(_("transition"), max_length=64, blank=True)
    from_state = models.CharField(max_length=32, choices=TicketState.choices, blank=True)
    to_state = models.CharField(max_length=32, choices=TicketState.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    # null means the system did it
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("time"))
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketevent_timeline"),
            # Reports count transitions and hand-overs per period: by name, then by time.
            models.Index(fields=["transition", "created_at"], name="ticketevent_transition_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.transition}".strip()


class TicketNote(models.Model):
    """An internal note on a ticket: visible to the staff, never sent."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note #{self.pk}"


class TicketLink(models.Model):
    """A directed link between two tickets (duplicate of, related, follow-up of)."""

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("kind"), max_length=32, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints = [
            models.UniqueConstraint(
                fields=["from_ticket", "to_ticket", "kind"], name="ticketlink_unique"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.from_ticket_id} {self.kind} #{self.to_ticket_id}"


# --------------------------------------------------------------------------- replies


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

    @transition(field=status, source=ReplyStatus.APPROVED, target=ReplyStatus.SENT)
    def confirm_posted(self, *, permalink: str, at: datetime) -> None:
        self.permalink = permalink
        self.sent_at = at
        self.next_attempt_at = None


# --------------------------------------------------------------------------- departments


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

    The expert sees the question and only the mentions the agent chose to share.
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


# --------------------------------------------------------------------------- SLA


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
    """A clock that ran past its deadline: one row per clock, whichever path saw it first."""

    clock = models.OneToOneField(SlaClock, on_delete=models.CASCADE, related_name="breach")
    due_at = models.DateTimeField(_("due at"))  # the clock's true deadline, even when late
    detected_at = models.DateTimeField(_("detected at"))

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        indexes = [models.Index(fields=["detected_at"], name="slabreach_detected")]

    def __str__(self) -> str:
        return f"breach of clock {self.clock_id}"


# --------------------------------------------------------------------------- notifications


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


# --------------------------------------------------------------------------- report facts


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
