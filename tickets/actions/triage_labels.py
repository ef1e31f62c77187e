"""Every human triage decision becomes a label for the learned triage (issue 13 §3):
assign to support, dismiss (by reason), a CM's answer in the CM stage, a department request.
Called inside the decision's transaction; the labelled mention is the one that opened the
ticket (its first mention not from the channel's own accounts)."""

from datetime import datetime
from typing import Any

from tickets.choices import DismissReason
from tickets.models import Ticket
from triage import actions as triage_actions
from triage.choices import LabelSource

DISMISS_LABELS: dict[str, dict[str, object]] = {
    DismissReason.NOT_RELEVANT: {"relevant": False, "route": "none"},
    DismissReason.SPAM: {"relevant": False, "route": "none"},
    DismissReason.ABUSIVE: {"abusive": True, "route": "none"},
    # a duplicate says nothing about the heads of the mention: no label
}


def label_first_mention(
    ticket: Ticket, labels: dict[str, object], *, source: str, actor: Any, now: datetime
) -> None:
    if not labels:
        return
    mention = ticket.mentions.filter(is_own_account=False).order_by("created_at", "id").first()
    if mention is not None:
        triage_actions.record_labels(mention, labels, source=source, actor=actor, now=now)


def on_assigned(ticket: Ticket, *, actor: Any, now: datetime) -> None:
    label_first_mention(
        ticket,
        {"relevant": True, "route": "support"},
        source=LabelSource.ASSIGN,
        actor=actor,
        now=now,
    )


def on_dismissed(ticket: Ticket, *, reason: str, actor: Any, now: datetime) -> None:
    label_first_mention(
        ticket, DISMISS_LABELS.get(reason, {}), source=LabelSource.DISMISS, actor=actor, now=now
    )


def on_cm_answer(mention: Any, *, actor: Any, now: datetime) -> None:
    triage_actions.record_labels(
        mention, {"relevant": True, "route": "cm"}, source=LabelSource.ANSWER, actor=actor, now=now
    )


def on_department_asked(ticket: Ticket, *, department: str, actor: Any, now: datetime) -> None:
    label_first_mention(
        ticket,
        {"route": "support", "department": department},
        source=LabelSource.DEPARTMENT,
        actor=actor,
        now=now,
    )
