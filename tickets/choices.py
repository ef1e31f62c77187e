"""Enumerations of the tickets app and their named groups."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The reply kinds are the templates' (guidelines), re-exported for the workflow.
from guidelines.choices import ReplyKind as ReplyKind


class TicketState(models.TextChoices):
    NEW = "new", _("New (CM triage)")
    SUPPORT = "support", _("SoMe Support (waiting to be taken)")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer (private channel)")
    WAITING_DEPARTMENT = "waiting_department", _("Waiting for department")
    RESUBMISSION = "resubmission", _("Follow-up scheduled")
    RESOLVED = "resolved", _("Resolved")
    UNSOLVABLE = "unsolvable", _("Unsolvable (topic under observation)")
    DISMISSED = "dismissed", _("No action needed")


class Stage(models.TextChoices):
    CM = "cm", _("CM")
    SUPPORT = "support", _("Support")
    DEPARTMENT = "department", _("Department")


# Every state the desk still works on belongs to one stage; queues and dashboards group by it.
STAGE_OF_STATE: dict[str, Stage] = {
    TicketState.NEW: Stage.CM,
    TicketState.SUPPORT: Stage.SUPPORT,
    TicketState.IN_PROGRESS: Stage.SUPPORT,
    TicketState.WAITING_CUSTOMER: Stage.SUPPORT,
    TicketState.RESUBMISSION: Stage.SUPPORT,
    TicketState.WAITING_DEPARTMENT: Stage.DEPARTMENT,
}

# The desk still owes the customer something.
OPEN_STATES = tuple(STAGE_OF_STATE)
CLOSED_STATES = (TicketState.RESOLVED, TicketState.UNSOLVABLE, TicketState.DISMISSED)
# A new mention of the ticket's own customer moves the ticket back to work from these.
CUSTOMER_REPLY_STATES = (
    TicketState.WAITING_CUSTOMER,
    TicketState.RESUBMISSION,
    TicketState.RESOLVED,
    TicketState.UNSOLVABLE,
)
# From these, customer_replied only fires within the reopen window.
REOPEN_WINDOW_STATES = (TicketState.RESOLVED, TicketState.UNSOLVABLE)


def states_of_stage(stage: str) -> tuple[str, ...]:
    return tuple(state for state, of_stage in STAGE_OF_STATE.items() if of_stage == stage)


def is_handover(from_state: str, to_state: str) -> bool:
    """A transition that hands the ticket to another stage. Closed states have no stage, so
    moving into or out of them is no hand-over."""
    from_stage, to_stage = STAGE_OF_STATE.get(from_state), STAGE_OF_STATE.get(to_state)
    return from_stage is not None and to_stage is not None and from_stage != to_stage


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = (Priority.NORMAL, Priority.HIGH, Priority.URGENT)


def raised_priority(priority: str) -> str:
    """One step up: normal → high → urgent (urgent stays)."""
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


class DismissReason(models.TextChoices):
    NOT_RELEVANT = "not_relevant", _("Not service-relevant")
    SPAM = "spam", _("Spam")
    ABUSIVE = "abusive", _("Abusive")
    DUPLICATE = "duplicate", _("Duplicate of another ticket")


class LinkKind(models.TextChoices):
    DUPLICATE_OF = "duplicate_of", _("Duplicate of")
    RELATED = "related", _("Related")
    FOLLOW_UP_OF = "follow_up_of", _("Follow-up of")


class TicketEventKind(models.TextChoices):
    TRANSITION = "transition", _("Transition")
    OPENED = "opened", _("Ticket opened")
    MENTION = "mention", _("Mention received")
    NOTE = "note", _("Internal note")
    REPLY = "reply", _("Reply")
    LINK = "link", _("Link")
    NO_SERVICE_CASE = "no_service_case", _("Marked as no service case")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breach")
    MODERATION = "moderation", _("Moderation")
    REASSIGN = "reassign", _("Reassigned")
    INCIDENT = "incident", _("Incident")


class ReplyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_REVIEW = "pending_review", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ReplyVisibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class ReplyStep(models.TextChoices):
    """A step of a reply's life, as its ticket event records it (`data["step"]`)."""

    DRAFTED = "drafted", _("Reply drafted")
    SUBMITTED = "submitted", _("Reply sent for approval")
    APPROVED = "approved", _("Reply approved")
    REJECTED = "rejected", _("Reply rejected")
    SENT = "sent", _("Reply sent")
    FAILED = "failed", _("Reply delivery failed")
    RETRY = "retry", _("Reply delivery retried")


# Replies that stop a response clock when they are sent (DESIGN §4).
RESPONSE_KINDS = (ReplyKind.ANSWER, ReplyKind.HOLDING, ReplyKind.ASK_PRIVATE)


class DepartmentRequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SlaKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    ENGAGEMENT = "engagement", _("Engagement (no service case)")
    NEXT_RESPONSE = "next_response", _("Next response")
    DEPARTMENT_FEEDBACK = "department_feedback", _("Department feedback")


# Clocks stopped by a reply sent to the customer.
RESPONSE_CLOCK_KINDS = (SlaKind.FIRST_RESPONSE, SlaKind.ENGAGEMENT, SlaKind.NEXT_RESPONSE)

DEFAULT_SLA_TARGETS: dict[str, int] = {
    SlaKind.FIRST_RESPONSE: 10 * 60,
    SlaKind.ENGAGEMENT: 24 * 60 * 60,
    SlaKind.NEXT_RESPONSE: 10 * 60,
    SlaKind.DEPARTMENT_FEEDBACK: 48 * 60 * 60,
}
DEFAULT_WARN_PERCENT = 80


class NotificationKind(models.TextChoices):
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACH = "sla_breach", _("SLA breach")
    ESCALATION = "escalation", _("Escalation")
    REVIEW_REQUEST = "review_request", _("Review requested")
    REVIEW_RESULT = "review_result", _("Review result")
    RESUBMISSION_DUE = "resubmission_due", _("Follow-up due")
    ASSIGNED = "assigned", _("Ticket assigned")
    DEPARTMENT_REQUEST = "department_request", _("Department request")
    DEPARTMENT_ANSWER = "department_answer", _("Department answer")
    REPLY_FAILED = "reply_failed", _("Reply delivery failed")
    ARTICLE_PROPOSAL = "article_proposal", _("Article proposal")
    ARTICLE_REVIEWED = "article_reviewed", _("Article proposal reviewed")
    ARTICLE_EXPIRED = "article_expired", _("Article past its valid-until date")
    NEW_MESSAGE = "new_message", _("New message")
    DIRECT_MESSAGE = "direct_message", _("Direct message arrived")
    INCIDENT_OPENED = "incident_opened", _("Incident opened")


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class StatementKind(models.TextChoices):
    """The two public statements of an incident (issue 14, §3)."""

    HOLDING = "holding", _("Holding statement")
    RESOLUTION = "resolution", _("Resolution statement")


class StatementStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    APPROVED = "approved", _("Approved")


# The reply kind each statement is sent as: the holding statement stops the response clocks
# like a holding message; the resolution statement is an answer (the `resolve` guard).
STATEMENT_REPLY_KIND: dict[str, str] = {
    StatementKind.HOLDING: ReplyKind.HOLDING,
    StatementKind.RESOLUTION: ReplyKind.ANSWER,
}
