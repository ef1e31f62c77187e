"""The four-eyes review queue: approve, reject with comment, no self-approval, budget."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tickets import actions
from tickets.choices import ReplyStatus, TicketState
from tickets.models import Reply
from tickets.tests.factories import TicketFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


def _pending_reply(author: Any, text: str = "Hallo Erika, wir kümmern uns.") -> Reply:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=author)
    return actions.create_reply(
        ticket, actor=author, text=text, visibility="public", kind="answer", submit=True
    )


def test_second_agent_approves_a_reply(client: Any, agent: Any, other_agent: Any) -> None:
    reply = _pending_reply(agent)
    client.force_login(other_agent)

    client.post(reverse("tickets:reply_approve", args=[reply.pk]))

    reply.refresh_from_db()
    assert (reply.status, reply.reviewer) == (ReplyStatus.APPROVED, other_agent)


def test_reject_without_comment_is_refused(client: Any, agent: Any, other_agent: Any) -> None:
    reply = _pending_reply(agent)
    client.force_login(other_agent)

    response = client.post(reverse("tickets:reply_reject", args=[reply.pk]), {"comment": ""})

    reply.refresh_from_db()
    assert response.status_code == 400
    assert reply.status == ReplyStatus.PENDING_REVIEW


def test_reject_with_comment_returns_the_draft_to_its_author(
    client: Any, agent: Any, other_agent: Any
) -> None:
    reply = _pending_reply(agent)
    client.force_login(other_agent)

    client.post(reverse("tickets:reply_reject", args=[reply.pk]), {"comment": "Zu knapp"})

    reply.refresh_from_db()
    assert (reply.status, reply.review_comment) == (ReplyStatus.DRAFT, "Zu knapp")


def test_author_sees_no_approve_button_for_his_own_reply(client: Any, agent: Any) -> None:
    reply = _pending_reply(agent)
    client.force_login(agent)

    content = client.get(reverse("tickets:review_queue")).content

    assert f'id="review-{reply.pk}"'.encode() in content
    assert reverse("tickets:reply_approve", args=[reply.pk]).encode() not in content


def test_forged_self_approval_is_refused(client: Any, agent: Any) -> None:
    reply = _pending_reply(agent)
    client.force_login(agent)

    response = client.post(reverse("tickets:reply_approve", args=[reply.pk]))

    reply.refresh_from_db()
    assert response.status_code == 403
    assert b"four-eyes" in response.content
    assert reply.status == ReplyStatus.PENDING_REVIEW


def test_review_shows_guideline_findings_of_a_reply(client: Any, agent: Any, other_agent: Any):
    reply = _pending_reply(agent, text="Bitte schick uns deine IBAN DE89370400440532013000.")
    client.force_login(other_agent)

    response = client.get(reverse("tickets:review_findings", args=[reply.pk]))

    assert b"finding-strong" in response.content


def test_review_queue_escapes_reply_text(client: Any, agent: Any, other_agent: Any) -> None:
    _pending_reply(agent, text="<script>alert('x')</script>")
    client.force_login(other_agent)

    content = client.get(reverse("tickets:review_queue")).content

    assert b"<script>alert('x')" not in content


def test_review_queue_needs_the_same_queries_for_5_and_50_replies(
    client: Any, agent: Any, other_agent: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        _pending_reply(agent)
    client.force_login(other_agent)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("tickets:review_queue"))
    for _ in range(45):
        _pending_reply(agent)

    with django_assert_max_num_queries(len(five)):
        response = client.get(reverse("tickets:review_queue"))

    assert response.status_code == 200
