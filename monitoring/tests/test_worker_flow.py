"""End to end through a real Celery worker on the real Redis broker: beat's dispatcher polls a
channel into tickets, an approved reply is sent; a reply approved while the broker is down is
sent by the sweep once it is back."""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.utils import timezone

from monitoring import tasks as monitoring_tasks
from monitoring.models import Mention
from monitoring.tests.fakeplatform import FakeResponse, RecordedRequest
from servicedesk.celery import app
from tickets import actions, outbox
from tickets.choices import ReplyKind, ReplyStatus, ReplyVisibility
from tickets.models import Reply
from tickets.tests.factories import TicketFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_worker,
]

WAIT_SECONDS = 30.0
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _forget_producer_connections() -> None:
    # Celery builds its producer pool, with the broker URL of that moment, on the first
    # publish and keeps it; forget it so the next publish connects to the URL now in force.
    app.amqp._producer_pool = None
    app._pool = None


@contextmanager
def broker_unreachable(settings: Any) -> Iterator[None]:
    """CELERY_BROKER_URL points at a closed port (through the settings fixture) meanwhile."""
    original = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    _forget_producer_connections()
    try:
        yield
    finally:
        settings.CELERY_BROKER_URL = original
        _forget_producer_connections()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_beat_dispatch_polls_into_tickets_and_an_approved_reply_is_sent_by_the_worker(
    celery_worker, fake_platform, platform_channel, cm, agent
):
    # given a Mastodon channel due for a poll, and the instance's documented answers
    channel = platform_channel("mastodon", next_poll_at=timezone.now())
    fake_platform.serve_payload(
        "GET",
        "/api/v1/notifications",
        "mastodon/notifications_page1",
        "mastodon/notifications_page2",
        "mastodon/notifications_empty",
    )
    fake_platform.serve_payload("POST", "/api/v1/statuses", "mastodon/status_created")

    # when beat's dispatcher runs on the worker
    monitoring_tasks.poll_due_channels_task.delay()
    wait_for(lambda: Mention.objects.filter(channel=channel).count() == 3, "the poll")
    mention = Mention.objects.get(channel=channel, external_id="111300000000000002")
    reply = actions.create_reply(
        mention.ticket,
        actor=cm,
        text="Hallo Lea, ja, leise bitte.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        in_reply_to_mention=mention,
        submit=True,
    )
    actions.approve_reply(reply, actor=agent)

    # then the worker posts the approved reply once, threaded and with its idempotency key
    wait_for(lambda: Reply.objects.get(pk=reply.pk).status == ReplyStatus.SENT, "the send")
    posted = fake_platform.requests_to("POST", "/api/v1/statuses")
    assert len(posted) == 1
    assert posted[0].headers["idempotency-key"] == str(reply.pk)
    assert posted[0].json()["in_reply_to_id"] == "111300000000000002"
    assert Reply.objects.get(pk=reply.pk).platform_id == "111300000000000777"
    assert channel.tickets.count() == 3


def test_a_reply_approved_while_the_broker_is_down_is_sent_by_the_sweep_once_it_is_back(
    celery_worker, settings, fake_platform, platform_channel, cm, agent, caplog
):
    # given a webhook channel whose receiver de-duplicates by key
    channel = platform_channel("webhook")
    received: list[str] = []
    lock = threading.Lock()

    def receiver(request: RecordedRequest) -> FakeResponse:
        with lock:
            received.append(request.headers["idempotency-key"])
        return FakeResponse(200, {"external_id": f"bridge-{request.headers['idempotency-key']}"})

    fake_platform.serve("POST", "/hook", receiver)
    ticket = TicketFactory(channel=channel)
    reply = actions.create_reply(
        ticket,
        actor=cm,
        text="Wir kümmern uns darum.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.HOLDING,
        submit=True,
    )
    caplog.set_level(logging.WARNING, logger="servicedesk.queue")

    # when the reply is approved while the broker is unreachable
    with broker_unreachable(settings):
        actions.approve_reply(reply, actor=agent)
    approved = Reply.objects.get(pk=reply.pk)
    time.sleep(1)  # a lost message would have been sent by now; nothing was enqueued
    sent_before_sweep = list(received)

    # and the sweep runs once the broker is back
    outbox.send_pending_replies(now=timezone.now())

    # then the approval succeeded softly, and the worker sends the reply exactly once
    wait_for(lambda: Reply.objects.get(pk=reply.pk).status == ReplyStatus.SENT, "the send")
    assert approved.status == ReplyStatus.APPROVED
    assert sent_before_sweep == []
    assert any("could not enqueue" in record.getMessage() for record in caplog.records)
    assert received == [str(reply.pk)]
    assert Reply.objects.get(pk=reply.pk).platform_id == f"bridge-{reply.pk}"
