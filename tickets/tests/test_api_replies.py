"""Replies through the API (DESIGN §3.2, §6): drafting, the four-eyes review, retry and the
hand-posted confirmation; self-approval answers 403 on every path."""

from typing import Any

import pytest

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.choices import ReplyStatus, ReplyVisibility, TicketState
from tickets.models import Reply
from tickets.tests.factories import ChannelFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status, force_state

pytestmark = pytest.mark.django_db


def drafts(ticket: Any) -> str:
    return f"/api/v1/tickets/{ticket.pk}/replies/"


def step(reply: Reply, name: str) -> str:
    return f"/api/v1/replies/{reply.pk}/{name}/"


@pytest.fixture
def open_ticket(agent: Any) -> Any:
    return force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)


@pytest.fixture
def pending_reply(open_ticket: Any, agent: Any) -> Reply:
    reply = ReplyFactory(ticket=open_ticket, author=agent)
    return force_reply_status(reply, ReplyStatus.PENDING_REVIEW)


def test_agent_drafts_a_reply_to_the_customers_mention(agent: Any, open_ticket: Any) -> None:
    response = client_for(agent).post(
        drafts(open_ticket),
        {"text": "Hallo Erika, wir schauen nach.", "visibility": "public", "kind": "holding"},
        format="json",
    )

    assert response.status_code == 201
    reply = Reply.objects.get()
    assert response.json()["id"] == reply.pk
    assert (reply.status, reply.author, reply.in_reply_to_mention) == (
        ReplyStatus.DRAFT,
        agent,
        open_ticket.mentions.get(),
    )


def test_draft_submitted_at_once_waits_for_review(agent: Any, open_ticket: Any) -> None:
    response = client_for(agent).post(
        drafts(open_ticket),
        {"text": "Antwort", "visibility": "public", "kind": "answer", "submit": True},
        format="json",
    )

    assert response.json()["status"] == ReplyStatus.PENDING_REVIEW


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"visibility": "public", "kind": "answer"}, "text"),
        ({"text": "x", "kind": "answer"}, "visibility"),
        ({"text": "x", "visibility": "public", "kind": "poem"}, "kind"),
        ({"text": "x", "visibility": "public", "kind": "answer", "template": 999999}, "template"),
    ],
)
def test_bad_draft_answers_400(
    agent: Any, open_ticket: Any, body: dict[str, Any], field: str
) -> None:
    response = client_for(agent).post(drafts(open_ticket), body, format="json")

    assert field in assert_error(response, 400, "invalid")["errors"]
    assert not Reply.objects.exists()


def test_reply_to_a_mention_of_another_ticket_answers_400(agent: Any, open_ticket: Any) -> None:
    foreign = TicketFactory().mentions.get()

    response = client_for(agent).post(
        drafts(open_ticket),
        {"text": "x", "visibility": "public", "kind": "answer", "in_reply_to_mention": foreign.pk},
        format="json",
    )

    assert "in_reply_to_mention" in assert_error(response, 400)["errors"]


def test_api_client_may_not_draft(api_client_user: Any, open_ticket: Any) -> None:
    response = client_for(api_client_user).post(
        drafts(open_ticket), {"text": "x", "visibility": "public", "kind": "answer"}, format="json"
    )

    assert_error(response, 403, "not_allowed_for_role")
    assert not Reply.objects.exists()


def test_expert_gets_404_drafting_on_a_ticket(expert: Any, open_ticket: Any) -> None:
    response = client_for(expert).post(
        drafts(open_ticket), {"text": "x", "visibility": "public", "kind": "answer"}, format="json"
    )

    assert_error(response, 404)


def test_reply_detail_shows_status_reviewer_attempts_and_error(
    agent: Any, team_lead: Any, open_ticket: Any
) -> None:
    reply = ReplyFactory(ticket=open_ticket, author=agent)
    reply = force_reply_status(
        reply, ReplyStatus.FAILED, reviewer=team_lead, attempts=3, last_error="timeout"
    )

    body = client_for(agent).get(f"/api/v1/replies/{reply.pk}/").json()

    assert (body["status"], body["reviewer"]["id"], body["attempts"], body["last_error"]) == (
        "failed",
        team_lead.pk,
        3,
        "timeout",
    )


def test_expert_gets_404_for_a_reply(expert: Any, pending_reply: Reply) -> None:
    assert_error(client_for(expert).get(f"/api/v1/replies/{pending_reply.pk}/"), 404)


def test_author_submits_a_draft(agent: Any, open_ticket: Any) -> None:
    reply = ReplyFactory(ticket=open_ticket, author=agent)

    response = client_for(agent).post(step(reply, "submit"))

    assert response.json()["status"] == ReplyStatus.PENDING_REVIEW


def test_another_agent_approves(other_agent: Any, pending_reply: Reply) -> None:
    response = client_for(other_agent).post(step(pending_reply, "approve"))

    assert response.status_code == 200
    reply = Reply.objects.get()
    assert (reply.status, reply.reviewer) == (ReplyStatus.APPROVED, other_agent)


@pytest.mark.parametrize("author", ["agent", "team_lead", "cm"])
def test_self_approval_answers_403(request: Any, open_ticket: Any, author: str) -> None:
    user = request.getfixturevalue(author)
    reply = force_reply_status(
        ReplyFactory(ticket=open_ticket, author=user), ReplyStatus.PENDING_REVIEW
    )

    response = client_for(user).post(step(reply, "approve"))

    assert_error(response, 403, "self_approval")
    assert Reply.objects.get().status == ReplyStatus.PENDING_REVIEW


def test_self_approval_of_a_draft_also_answers_403(agent: Any, open_ticket: Any) -> None:
    reply = ReplyFactory(ticket=open_ticket, author=agent)

    assert_error(client_for(agent).post(step(reply, "approve")), 403, "self_approval")


def test_api_client_may_not_approve(api_client_user: Any, pending_reply: Reply) -> None:
    response = client_for(api_client_user).post(step(pending_reply, "approve"))

    assert_error(response, 403, "not_allowed_for_role")
    assert Reply.objects.get().status == ReplyStatus.PENDING_REVIEW


def test_approving_a_draft_answers_409(other_agent: Any, agent: Any, open_ticket: Any) -> None:
    reply = ReplyFactory(ticket=open_ticket, author=agent)

    assert_error(client_for(other_agent).post(step(reply, "approve")), 409, "invalid_transition")


def test_reject_needs_a_comment(other_agent: Any, pending_reply: Reply) -> None:
    for body in ({}, {"comment": "  "}):
        response = client_for(other_agent).post(step(pending_reply, "reject"), body, format="json")

        assert "comment" in assert_error(response, 400, "invalid")["errors"]
    assert Reply.objects.get().status == ReplyStatus.PENDING_REVIEW


def test_reject_with_a_comment_returns_the_draft(other_agent: Any, pending_reply: Reply) -> None:
    response = client_for(other_agent).post(
        step(pending_reply, "reject"), {"comment": "Bitte ohne Floskeln."}, format="json"
    )

    assert response.json()["status"] == ReplyStatus.DRAFT
    assert Reply.objects.get().review_comment == "Bitte ohne Floskeln."


def test_retry_a_failed_reply(agent: Any, open_ticket: Any) -> None:
    reply = force_reply_status(ReplyFactory(ticket=open_ticket, author=agent), ReplyStatus.FAILED)

    response = client_for(agent).post(step(reply, "retry"))

    assert response.json()["status"] == ReplyStatus.APPROVED


def test_retry_a_sent_reply_answers_409(agent: Any, open_ticket: Any) -> None:
    reply = force_reply_status(ReplyFactory(ticket=open_ticket, author=agent), ReplyStatus.SENT)

    assert_error(client_for(agent).post(step(reply, "retry")), 409)


def test_confirm_posted_needs_a_permalink(agent: Any) -> None:
    ticket = force_state(
        TicketFactory(channel=ChannelFactory(slug="forum", platform="rss")),
        TicketState.IN_PROGRESS,
        assignee=agent,
    )
    reply = force_reply_status(
        ReplyFactory(ticket=ticket, author=agent, visibility=ReplyVisibility.PUBLIC),
        ReplyStatus.APPROVED,
    )

    for body in ({}, {"permalink": "kein link"}):
        response = client_for(agent).post(step(reply, "confirm_posted"), body, format="json")

        assert "permalink" in assert_error(response, 400, "invalid")["errors"]


def test_confirm_posted_on_a_hand_posted_channel_sends_the_reply(agent: Any) -> None:
    ticket = force_state(
        TicketFactory(channel=ChannelFactory(slug="forum", platform="rss")),
        TicketState.IN_PROGRESS,
        assignee=agent,
    )
    reply = force_reply_status(ReplyFactory(ticket=ticket, author=agent), ReplyStatus.APPROVED)

    response = client_for(agent).post(
        step(reply, "confirm_posted"),
        {"permalink": "https://forum.example/t/1#p7"},
        format="json",
    )

    assert response.status_code == 200, response.content
    reply = Reply.objects.get()
    assert (reply.status, reply.permalink) == (ReplyStatus.SENT, "https://forum.example/t/1#p7")
