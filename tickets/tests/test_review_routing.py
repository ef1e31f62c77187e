"""Review routing (issue 16, point 4): the reviewer on duty first, never the author,
escalation to every reviewer after a share of the remaining SLA time."""

from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from servicedesk import roles
from staffing.choices import Duty, PresenceStatus
from staffing.models import Shift, StaffMember
from tickets import actions
from tickets.actions.review_routing import escalate_reviews
from tickets.choices import NotificationKind
from tickets.models import Notification
from tickets.tests.factories import ReplyFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def reviewer(name: str, *, on_duty: bool, status: str = PresenceStatus.ONLINE) -> Any:
    user = UserFactory(username=name, groups=[roles.SUPPORT_AGENT])
    StaffMember.objects.create(user=user, status=status)
    if on_duty:
        Shift.objects.create(
            user=user,
            duty=Duty.REVIEW,
            weekday=timezone.localtime().weekday(),
            starts=time(0),
            ends=time(0),
        )
    return user


def asked(kind: str = NotificationKind.REVIEW_REQUEST) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def submitted(author: Any, *, minutes_left: int = 10) -> Any:
    ticket = TicketFactory(sla_due_at=timezone.now() + timedelta(minutes=minutes_left))
    reply = ReplyFactory(ticket=ticket, author=author)
    return actions.submit_reply(reply, actor=author)


def test_the_reviewer_on_duty_is_asked_first_and_alone() -> None:
    author = reviewer("anton", on_duty=False)
    olga = reviewer("olga", on_duty=True)
    reviewer("tom", on_duty=False)

    reply = submitted(author, minutes_left=10)

    assert asked() == {"olga"}
    reply.refresh_from_db()
    assert reply.review_requested_from == olga
    remaining = reply.review_escalate_at - reply.submitted_at
    assert timedelta(minutes=4, seconds=55) < remaining <= timedelta(minutes=5)  # 50 % of 10 min


def test_the_author_never_reviews_his_own_reply_even_on_duty() -> None:
    author = reviewer("anton", on_duty=True)
    reviewer("olga", on_duty=False)

    submitted(author)

    assert asked() == {"olga"}  # nobody else on duty: everyone but the author


def test_an_offline_duty_reviewer_is_skipped() -> None:
    author = reviewer("anton", on_duty=False)
    reviewer("olga", on_duty=True, status=PresenceStatus.OFFLINE)
    reviewer("tom", on_duty=False)

    submitted(author)

    assert asked() == {"olga", "tom"}


def test_an_unapproved_review_escalates_to_every_reviewer_once() -> None:
    author = reviewer("anton", on_duty=False)
    reviewer("olga", on_duty=True)
    reviewer("tom", on_duty=False)
    lead = UserFactory(username="tina", groups=[roles.TEAM_LEAD])
    reply = submitted(author, minutes_left=10)
    reply.refresh_from_db()

    assert escalate_reviews(now=reply.review_escalate_at - timedelta(seconds=1)) == 0
    assert escalate_reviews(now=reply.review_escalate_at) == 1
    assert escalate_reviews(now=reply.review_escalate_at + timedelta(minutes=1)) == 0

    escalated = Notification.objects.filter(dedupe_key=f"review-escalated:{reply.pk}")
    assert set(escalated.values_list("user__username", flat=True)) == {"tom", lead.username}


def test_an_approved_reply_does_not_escalate() -> None:
    author = reviewer("anton", on_duty=False)
    olga = reviewer("olga", on_duty=True)
    reply = submitted(author)
    actions.approve_reply(reply, actor=olga)
    reply.refresh_from_db()

    assert escalate_reviews(now=reply.review_escalate_at + timedelta(minutes=1)) == 0
