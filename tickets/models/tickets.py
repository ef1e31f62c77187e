"""Tickets and their state machine, topics, ticket events, internal notes and links.

`Ticket.state` changes only through the django-fsm transition methods below, whose rules
are the rows of `tickets.transitions`; tickets.actions calls them inside a locked
transaction, saves, and writes the event. Reports read `ReportFact` rows that PostgreSQL
triggers keep in step with tickets, clocks and replies (`tickets/models/facts.py`).
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin

from servicedesk import roles
from tickets.choices import (
    OPEN_STATES,
    STAGE_OF_STATE,
    DismissReason,
    LinkKind,
    Priority,
    Stage,
    TicketEventKind,
    TicketState,
    states_of_stage,
)
from tickets.sla import FOLLOW_UP_OVERDUE_AFTER
from tickets.transitions import fsm_rules


class Topic(models.Model):
    """A topic under observation: unsolvable cases name one; later tickets can link to it."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    # The information centre's articles about this topic (set by team leads).
    articles = models.ManyToManyField(
        "knowledge.Article", blank=True, related_name="topics", verbose_name=_("articles")
    )

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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

    Written behind your back: PostgreSQL triggers (migration tickets/0006_report_facts) add
    and take away the report facts of every ticket inserted, deleted or updated in the
    columns they read (state, resolution, counts), in the same transaction.
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
    # Who made the assignee the owner: a person (take, reassign), or routing
    # (assigned_by_routing, issue 16: tickets.actions.routing).
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    assigned_by_routing = models.BooleanField(_("assigned by routing"), default=False)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
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
    # Kept by every transition (tickets.actions.fire_transition, with its event): the
    # dashboard's process depth reads them instead of counting a month of events.
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

    # ---- transitions (in memory only; tickets.actions saves and records the event).
    # Sources, targets, permissions and guards are rows of tickets.transitions.TRANSITIONS.

    @fsm_rules(state, "assign_to_support")
    def assign_to_support(self) -> None:
        pass

    @fsm_rules(state, "return_to_cm")
    def return_to_cm(self) -> None:
        pass

    @fsm_rules(state, "take")
    def take(self, *, assignee: Any, at: datetime, by: Any = None) -> None:
        """`by` is the person who assigned (None: routing)."""
        self.assignee = assignee
        self.assigned_by = by
        self.assigned_by_routing = by is None
        self.assigned_at = at

    @fsm_rules(state, "release")
    def release(self) -> None:
        self.assignee = None
        self.assigned_by = None
        self.assigned_by_routing = False
        self.assigned_at = None

    @fsm_rules(state, "request_private_data")
    def request_private_data(self) -> None:
        pass

    @fsm_rules(state, "ask_department")
    def ask_department(self) -> None:
        pass

    @fsm_rules(state, "department_answered")
    def department_answered(self) -> None:
        pass

    @fsm_rules(state, "withdraw_department_request")
    def withdraw_department_request(self) -> None:
        pass

    @fsm_rules(state, "customer_replied")
    def customer_replied(self) -> str:
        self.resolved_at = None
        self.resubmission_on = None
        self.resubmission_due_at = None
        return TicketState.IN_PROGRESS if self.assignee_id else TicketState.SUPPORT

    @fsm_rules(state, "close_no_response")
    def close_no_response(self, *, at: datetime) -> None:
        self.resolved_at = at

    @fsm_rules(state, "schedule_resubmission")
    def schedule_resubmission(self, *, on: Any, due_at: datetime, handover_reference: str) -> None:
        self.resubmission_on = on
        self.resubmission_due_at = due_at
        self.follow_up_due_at = None
        if handover_reference:
            self.handover_reference = handover_reference

    @fsm_rules(state, "resubmission_due")
    def resubmission_due(self, *, at: datetime) -> None:
        self.follow_up_due_at = at

    @fsm_rules(state, "resolve")
    def resolve(self, *, at: datetime) -> None:
        self.resolved_at = at
        self.follow_up_due_at = None

    @fsm_rules(state, "mark_unsolvable")
    def mark_unsolvable(self, *, topic: Topic, at: datetime) -> None:
        self.topic = topic
        self.resolved_at = at
        self.follow_up_due_at = None

    @fsm_rules(state, "dismiss")
    def dismiss(self, *, reason: str, at: datetime) -> None:
        self.dismiss_reason = reason
        self.resolved_at = at

    @fsm_rules(state, "reopen")
    def reopen(self) -> str:
        was_dismissed = self.state == TicketState.DISMISSED
        self.resolved_at = None
        self.dismiss_reason = ""
        if was_dismissed:
            return TicketState.NEW
        return TicketState.IN_PROGRESS if self.assignee_id else TicketState.SUPPORT


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
