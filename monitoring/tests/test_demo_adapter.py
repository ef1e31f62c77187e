"""The demo adapter: live traffic on its own, deterministic per cursor, with follow-ups and
answers that thread into existing tickets."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring.adapters.base import OutgoingReply
from monitoring.adapters.demo import DemoAdapter, _plan, corpus
from monitoring.models import Mention
from tickets import outbox, polling
from tickets.choices import ReplyStatus, TicketState
from tickets.models import Ticket, TicketEvent
from tickets.tests.factories import ReplyFactory
from tickets.tests.helpers import force_reply_status, force_state

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
SLUG = "demo-test"


@pytest.fixture(autouse=True)
def _local_platform_memory(settings):
    """The demo platform remembers sent replies in the cache: a private one per test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def demo_channel(platform_channel):
    return platform_channel("demo", slug=SLUG, poll_interval_seconds=5, next_poll_at=NOW)


def _first_step_with(kind, start=0):
    return next(step for step in range(start, 500) if any(k == kind for k, _ in _plan(SLUG, step)))


def test_the_corpus_ships_with_the_project_and_holds_only_opening_posts():
    rows = corpus()

    assert len(rows) > 20
    assert all(not row["in_reply_to"] for row in rows)


def test_every_poll_emits_up_to_two_fresh_mentions_and_advances_the_cursor(demo_channel):
    adapter = DemoAdapter()
    cursor, emitted = None, []

    with time_machine.travel(NOW, tick=False):
        for _poll in range(30):
            result = adapter.fetch(demo_channel, cursor)
            assert len(result.mentions) <= 2
            emitted += result.mentions
            cursor = result.next_cursor

    ids = [mention.external_id for mention in emitted]
    assert cursor == "30"
    assert len(ids) >= 10 and len(set(ids)) == len(ids)
    assert len({mention.author.handle for mention in emitted}) >= 5
    assert all(NOW - timedelta(seconds=15) < m.created_at < NOW for m in emitted)


def test_the_same_cursor_emits_the_same_mentions(demo_channel):
    adapter = DemoAdapter()
    step = str(_first_step_with("new"))

    with time_machine.travel(NOW, tick=False):
        first = adapter.fetch(demo_channel, step)
        again = adapter.fetch(demo_channel, step)

    assert first == again
    assert first.mentions


def test_a_demo_poll_re_run_after_a_crash_stores_nothing_twice(demo_channel):
    step = _first_step_with("new")
    demo_channel.cursor = str(step)
    demo_channel.save(update_fields=["cursor"])
    with time_machine.travel(NOW, tick=False):
        expected = len(DemoAdapter().fetch(demo_channel, str(step)).mentions)
        polling.poll_channel(demo_channel, now=NOW)
    # the cursor is put back, as if the commit had been lost
    type(demo_channel).objects.filter(pk=demo_channel.pk).update(cursor=str(step), next_poll_at=NOW)

    with time_machine.travel(NOW + timedelta(seconds=1), tick=False):
        outcome = polling.poll_channel(demo_channel, now=NOW + timedelta(seconds=1))

    assert (outcome.created, outcome.duplicates) == (0, expected)
    assert Mention.objects.filter(channel=demo_channel).count() == expected


def test_a_follow_up_threads_into_the_ticket_of_the_earlier_mention_and_reopens_it(
    demo_channel,
):
    # given the demo channel polled up to the step before a follow-up
    follow_up_step = _first_step_with("follow_up", start=1)
    at = NOW
    for _step in range(follow_up_step):
        with time_machine.travel(at, tick=False):
            polling.poll_channel(demo_channel, now=at)
        at += timedelta(seconds=5)
    with time_machine.travel(at, tick=False):
        follow_ups = [
            m for m in DemoAdapter().mentions_of_step(SLUG, follow_up_step, now=at) if m.in_reply_to
        ]
    parent = Mention.objects.get(channel=demo_channel, external_id=follow_ups[0].in_reply_to)
    force_state(parent.ticket, TicketState.RESOLVED)

    # when the next poll brings the follow-up
    with time_machine.travel(at, tick=False):
        polling.poll_channel(demo_channel, now=at)

    # then it joins the parent's ticket and, being the customer's, moves it back to work
    follow_up = Mention.objects.get(channel=demo_channel, external_id=follow_ups[0].external_id)
    assert follow_up.author_handle == parent.author_handle
    assert (follow_up.ticket_id, follow_up.parent_id) == (parent.ticket_id, parent.pk)
    assert Ticket.objects.get(pk=parent.ticket_id).state == TicketState.SUPPORT
    assert TicketEvent.objects.filter(
        ticket_id=parent.ticket_id, transition="customer_replied"
    ).exists()


def test_an_answer_to_a_sent_reply_threads_into_the_replys_ticket(demo_channel, agent):
    # given a mention on the demo channel and a reply the desk sent to it
    first_step = _first_step_with("new")
    demo_channel.cursor = str(first_step)
    demo_channel.save(update_fields=["cursor"])
    with time_machine.travel(NOW, tick=False):
        polling.poll_channel(demo_channel, now=NOW)
    mention = Mention.objects.filter(channel=demo_channel).order_by("pk").first()
    reply = ReplyFactory(ticket=mention.ticket, in_reply_to_mention=mention, author=agent)
    reply = force_reply_status(reply, ReplyStatus.APPROVED, next_attempt_at=NOW)
    assert outbox.deliver_reply(reply.pk, now=NOW) == ReplyStatus.SENT
    reply.refresh_from_db()

    # when the demo platform reaches a step that answers sent replies
    answer_step = _first_step_with("answer", start=first_step + 1)
    type(demo_channel).objects.filter(pk=demo_channel.pk).update(
        cursor=str(answer_step), next_poll_at=NOW
    )
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):
        polling.poll_channel(demo_channel, now=NOW + timedelta(seconds=5))

    # then the customer's answer joins the reply's ticket
    answers = Mention.objects.filter(channel=demo_channel, in_reply_to=reply.platform_id)
    assert reply.platform_id == f"demo-reply-{reply.pk}"
    assert answers.exists()
    assert {answer.ticket_id for answer in answers} == {mention.ticket_id}
    assert {answer.author_handle for answer in answers} == {mention.author_handle}


def test_sending_the_same_reply_twice_yields_the_same_post(demo_channel):
    reply = OutgoingReply(
        reply_id=77,
        ticket_id=1,
        text="Hallo!",
        visibility="public",
        in_reply_to="demo-0-0",
        recipient_handle="@maike_unterwegs",
    )

    first = DemoAdapter().send_reply(demo_channel, reply)
    second = DemoAdapter().send_reply(demo_channel, reply)

    assert first == second
    assert DemoAdapter().find_sent_reply(demo_channel, reply) == first
