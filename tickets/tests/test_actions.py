"""Actions: concurrency, stale state, replies and their four-eyes review."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from servicedesk.errors import (
    InvalidArgument,
    InvalidTransition,
    NotAllowedForRole,
    SelfApprovalNotAllowed,
    StaleState,
)
from tickets import actions, outbox
from tickets.choices import ReplyKind, ReplyStatus, TicketEventKind, TicketState
from tickets.models import Reply, Ticket, TicketEvent
from tickets.tests.factories import TicketFactory, UserFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_two_connections_taking_the_same_ticket_one_wins_one_conflicts() -> None:
    first = UserFactory(username="a1", groups=["support_agent"])
    second = UserFactory(username="a2", groups=["support_agent"])
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(user: Any) -> None:
        loaded = Ticket.objects.get(pk=ticket.pk)  # each loads the ticket in `support`
        barrier.wait()
        try:
            actions.take_ticket(loaded, actor=user)
            outcomes[user.username] = "ok"
        except StaleState:
            outcomes[user.username] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["conflict", "ok"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "ok")
    ticket.refresh_from_db()
    assert ticket.assignee.username == winner
    assert TicketEvent.objects.filter(ticket=ticket, transition="take").count() == 1


def test_acting_on_a_ticket_loaded_before_a_colleagues_change_is_a_conflict(
    cm: Any, team_lead: Any
) -> None:
    ticket = TicketFactory()
    stale_copy = Ticket.objects.get(pk=ticket.pk)
    actions.assign_to_support(ticket, actor=team_lead)

    with pytest.raises(StaleState):
        actions.dismiss_ticket(stale_copy, actor=cm, reason="spam")

    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.SUPPORT


def _pending_reply(ticket: Ticket, author: Any) -> Reply:
    reply = actions.create_reply(
        ticket, actor=author, text="Hallo Erika, danke!", visibility="public", kind="answer"
    )
    return actions.submit_reply(reply, actor=author)


def test_public_reply_goes_to_review_and_a_colleague_approves_it(
    agent: Any, other_agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = _pending_reply(ticket, agent)
    assert reply.status == ReplyStatus.PENDING_REVIEW

    with django_capture_on_commit_callbacks() as callbacks:
        reply = actions.approve_reply(reply, actor=other_agent)

    assert (reply.status, reply.reviewer) == (ReplyStatus.APPROVED, other_agent)
    assert len(callbacks) == 1  # the outbox task is enqueued after commit
    steps = list(
        ticket.events.filter(kind=TicketEventKind.REPLY).values_list("data__step", flat=True)
    )
    assert steps == ["drafted", "submitted", "approved"]


def test_nobody_approves_their_own_reply(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = _pending_reply(ticket, agent)

    with pytest.raises(SelfApprovalNotAllowed):
        actions.approve_reply(reply, actor=agent)

    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.PENDING_REVIEW


@pytest.mark.parametrize("persona", ["api_client_user", "expert"])
def test_api_clients_and_experts_never_approve(persona: str, agent: Any, request: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = _pending_reply(ticket, agent)

    with pytest.raises(NotAllowedForRole):
        actions.approve_reply(reply, actor=request.getfixturevalue(persona))


def test_api_clients_never_draft(api_client_user: Any) -> None:
    ticket = TicketFactory()

    with pytest.raises(NotAllowedForRole):
        actions.create_reply(
            ticket, actor=api_client_user, text="Hallo", visibility="public", kind="answer"
        )


def test_reject_needs_a_comment_and_returns_the_reply_to_draft(
    agent: Any, other_agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = _pending_reply(ticket, agent)

    with pytest.raises(InvalidArgument):
        actions.reject_reply(reply, actor=other_agent, comment=" ")
    reply = actions.reject_reply(reply, actor=other_agent, comment="Bitte persönlicher")

    assert (reply.status, reply.review_comment) == (ReplyStatus.DRAFT, "Bitte persönlicher")


def test_only_the_author_edits_and_only_a_draft(agent: Any, other_agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = actions.create_reply(
        ticket, actor=agent, text="Hallo", visibility="public", kind="answer"
    )

    with pytest.raises(NotAllowedForRole):
        actions.edit_reply(reply, actor=other_agent, text="Geändert")
    reply = actions.edit_reply(reply, actor=agent, text="Hallo Erika")
    reply = actions.submit_reply(reply, actor=agent)
    with pytest.raises(InvalidTransition):
        actions.edit_reply(reply, actor=agent, text="Noch mal")

    assert Reply.objects.get(pk=reply.pk).text == "Hallo Erika"


def test_private_reply_is_approved_on_submit_unless_the_channel_wants_review(
    agent: Any,
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    private = actions.create_reply(
        ticket, actor=agent, text="Hallo", visibility="private", kind="answer", submit=True
    )
    ticket.channel.private_replies_need_review = True
    ticket.channel.save(update_fields=["private_replies_need_review"])
    reviewed = actions.create_reply(
        ticket, actor=agent, text="Hallo", visibility="private", kind="answer", submit=True
    )

    assert private.status == ReplyStatus.APPROVED
    assert reviewed.status == ReplyStatus.PENDING_REVIEW


def test_request_private_data_creates_the_ask_reply_and_submits_it(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)

    ticket = actions.request_private_data(ticket, actor=agent, text="Schreib uns bitte per DM.")

    reply = ticket.replies.get()
    assert ticket.state == TicketState.WAITING_CUSTOMER
    assert (reply.kind, reply.status) == (ReplyKind.ASK_PRIVATE, ReplyStatus.PENDING_REVIEW)


def test_replies_answer_a_mention_of_their_own_ticket(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    foreign = TicketFactory().mentions.get()

    with pytest.raises(InvalidArgument):
        actions.create_reply(
            ticket,
            actor=agent,
            text="Hallo",
            visibility="public",
            kind="answer",
            in_reply_to_mention=foreign,
        )


def test_a_failed_delivery_can_be_retried_by_a_person(agent: Any, other_agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = actions.approve_reply(_pending_reply(ticket, agent), actor=other_agent)
    outbox.claim_reply_for_sending(reply.pk, now=timezone.now())
    failed = outbox.record_reply_attempt_failed(
        reply.pk, error="HTTP 400", now=timezone.now(), retry_at=None
    )
    assert failed.status == ReplyStatus.FAILED

    retried = actions.retry_reply(failed, actor=agent)

    assert retried.status == ReplyStatus.APPROVED
