"""The tickets app's models, one module per area; import them from here."""

from tickets.models.departments import Department, DepartmentRequest, DepartmentRequestQuerySet
from tickets.models.facts import ReportFact
from tickets.models.incidents import (
    Incident,
    IncidentDelivery,
    IncidentMember,
    IncidentQuerySet,
    IncidentStatement,
)
from tickets.models.notifications import Notification, NotificationQuerySet
from tickets.models.replies import Reply, ReplyQuerySet
from tickets.models.sla import SlaBreach, SlaClock, SlaClockQuerySet, SlaPolicy
from tickets.models.tickets import (
    Ticket,
    TicketEvent,
    TicketLink,
    TicketNote,
    TicketQuerySet,
    Topic,
)

__all__ = [
    "Department",
    "DepartmentRequest",
    "DepartmentRequestQuerySet",
    "Incident",
    "IncidentDelivery",
    "IncidentMember",
    "IncidentQuerySet",
    "IncidentStatement",
    "Notification",
    "NotificationQuerySet",
    "Reply",
    "ReplyQuerySet",
    "ReportFact",
    "SlaBreach",
    "SlaClock",
    "SlaClockQuerySet",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
    "TicketLink",
    "TicketNote",
    "TicketQuerySet",
    "Topic",
]
