"""Replies on channels whose adapter cannot post (RSS: review sites, forums, blogs) wait,
once approved, for their author to post them by hand and confirm the permalink (DESIGN §3.2):
the outbox must not take them and fail them first."""

from typing import Any

import pytest
from django.utils import timezone

from monitoring.choices import Platform
from tickets import actions, outbox
from tickets.choices import ReplyKind, ReplyStatus, ReplyVisibility
from tickets.models import Reply
from tickets.tests.factories import ChannelFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved_forum_reply(agent: Any, other_agent: Any) -> Reply:
    ticket = TicketFactory(channel=ChannelFactory(slug="forum", platform=Platform.RSS))
    reply = actions.create_reply(
        ticket,
        actor=agent,
        text="Hallo, der Zug fährt ab Montag wieder.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        submit=True,
    )
    return actions.approve_reply(reply, actor=other_agent)


def test_approving_a_hand_posted_reply_enqueues_no_delivery(
    agent: Any, other_agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = TicketFactory(channel=ChannelFactory(slug="forum", platform=Platform.RSS))
    reply = actions.create_reply(
        ticket,
        actor=agent,
        text="Hallo, der Zug fährt ab Montag wieder.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        submit=True,
    )

    with django_capture_on_commit_callbacks() as callbacks:
        reply = actions.approve_reply(reply, actor=other_agent)

    assert reply.status == ReplyStatus.APPROVED
    assert callbacks == []
    assert not Reply.objects.due_for_delivery(timezone.now()).filter(pk=reply.pk).exists()


def test_the_outbox_leaves_an_approved_hand_posted_reply_to_its_author(
    approved_forum_reply: Reply, agent: Any
) -> None:
    outbox.deliver_reply(approved_forum_reply.pk, now=timezone.now())

    reply = actions.confirm_reply_posted(
        Reply.objects.get(pk=approved_forum_reply.pk),
        actor=agent,
        permalink="https://forum.example/thread/1#post-2",
    )
    assert reply.status == ReplyStatus.SENT
    assert reply.attempts == 0
