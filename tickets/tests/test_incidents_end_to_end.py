"""End to end (issue 14): posts of a burst go through the intake; a real Celery worker on
Redis runs the detector (`tickets.tasks.detect_incidents_task`), which opens the incident and
alerts; an approved holding statement is delivered by the worker to every member."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Mention
from tickets.actions import incidents
from tickets.choices import NotificationKind, ReplyStatus, StatementKind
from tickets.intake import receive_mentions
from tickets.models import Incident, Notification, Reply
from tickets.tests.factories import ChannelFactory
from triage.models import BurstObservation
from triage.tests.burst_corpus import TELVIA_KOELN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

CEILING_SECONDS = 60


def wait_for(condition: Any) -> bool:
    deadline = time.monotonic() + CEILING_SECONDS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.3)
    return condition()


def burst(channel: Any, texts: list[str], *, start: int = 0) -> None:
    now = timezone.now()
    for index, text in enumerate(texts, start=start):  # arrival order, one post at a time
        mention = RawMention(
            external_id=f"telvia-{index}",
            author=RawAuthor(handle=f"@kunde{index}", display_name=f"Kim{index} Muster"),
            text=text,
            created_at=now - timedelta(seconds=90 - 10 * index),
        )
        receive_mentions(channel, [mention], now=now)


def test_a_burst_opens_one_incident_and_the_statement_reaches_every_member(
    celery_worker: Any, team_lead: Any, cm: Any, agent: Any
) -> None:
    channel = ChannelFactory(
        slug="demo-telvia", platform=Platform.DEMO, keywords=["Telvia"], own_accounts=["@desk"]
    )

    burst(channel, TELVIA_KOELN[:6])

    assert wait_for(lambda: Incident.objects.filter(detected=True).exists())
    incident = Incident.objects.get()
    assert wait_for(lambda: incident.members.count() == 6)
    assert Notification.objects.filter(
        user=team_lead, kind=NotificationKind.INCIDENT_OPENED
    ).exists()
    statement = incidents.write_statement(
        incident, actor=cm, kind=StatementKind.HOLDING, text="Hallo {name}, wir sind dran."
    )
    incidents.approve_statement(statement, actor=agent)
    burst(channel, TELVIA_KOELN[6:8], start=6)  # late joiners

    sent = Reply.objects.filter(status=ReplyStatus.SENT)
    assert wait_for(lambda: sent.count() == 8), (
        list(Reply.objects.values_list("in_reply_to_mention_id", "status", "last_error")),
        list(incident.members.values_list("mention_id", flat=True)),
        list(Mention.objects.values_list("pk", "external_id", "ticket_id")),
        list(BurstObservation.objects.values_list("mention_id", "kind")),
    )
    assert Incident.objects.count() == 1
    assert sorted(sent.values_list("in_reply_to_mention_id", flat=True)) == sorted(
        incident.members.values_list("mention_id", flat=True)
    )
