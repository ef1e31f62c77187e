"""The whole ticket transition table of DESIGN §3.1, pinned: every (state, transition,
persona) is allowed exactly where the design says so and refused with the right error
everywhere else."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from servicedesk.errors import (
    InvalidArgument,
    InvalidTransition,
    NotAllowedForRole,
    ReplyNotSent,
    SystemTransitionOnly,
)
from tickets import actions
from tickets.choices import ReplyKind, ReplyStatus, TicketEventKind, TicketState
from tickets.tests.factories import DepartmentFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status, force_state
from tickets.transitions import SYSTEM_TRANSITIONS

pytestmark = pytest.mark.django_db

S = TicketState
ALL_STATES = list(TicketState)
PERSONAS = ["cm", "agent", "other_agent", "team_lead", "expert", "api_client_user"]

# transition → (source states, {state-or-None: personas allowed}); None means every source.
CM, AGENT, OTHER, LEAD = "cm", "agent", "other_agent", "team_lead"
ASSIGNEE_OR_LEAD = {AGENT, LEAD}  # `agent` is the assignee in every set-up below
TABLE: dict[str, tuple[list[str], dict[Any, set[str]]]] = {
    "assign_to_support": ([S.NEW], {None: {CM, LEAD}}),
    "return_to_cm": ([S.SUPPORT], {None: {AGENT, OTHER, LEAD}}),
    "take": ([S.SUPPORT], {None: {AGENT, OTHER, LEAD}}),
    "release": ([S.IN_PROGRESS], {None: ASSIGNEE_OR_LEAD}),
    "request_private_data": ([S.IN_PROGRESS], {None: ASSIGNEE_OR_LEAD}),
    "ask_department": ([S.IN_PROGRESS], {None: ASSIGNEE_OR_LEAD}),
    "withdraw_department_request": ([S.WAITING_DEPARTMENT], {None: ASSIGNEE_OR_LEAD}),
    "close_no_response": ([S.WAITING_CUSTOMER], {None: ASSIGNEE_OR_LEAD}),
    "schedule_resubmission": ([S.IN_PROGRESS], {None: ASSIGNEE_OR_LEAD}),
    "resolve": (
        [S.NEW, S.IN_PROGRESS, S.RESUBMISSION],
        {S.NEW: {CM, LEAD}, None: ASSIGNEE_OR_LEAD},
    ),
    "mark_unsolvable": ([S.IN_PROGRESS], {None: ASSIGNEE_OR_LEAD}),
    "dismiss": ([S.NEW], {None: {CM, LEAD}}),
    "reopen": (
        [S.RESOLVED, S.UNSOLVABLE, S.DISMISSED],
        {S.DISMISSED: {CM, LEAD}, None: {AGENT, OTHER, LEAD}},
    ),
}
EXPECTED_TARGET = {
    "assign_to_support": S.SUPPORT,
    "return_to_cm": S.NEW,
    "take": S.IN_PROGRESS,
    "release": S.SUPPORT,
    "request_private_data": S.WAITING_CUSTOMER,
    "ask_department": S.WAITING_DEPARTMENT,
    "withdraw_department_request": S.IN_PROGRESS,
    "close_no_response": S.RESOLVED,
    "schedule_resubmission": S.RESUBMISSION,
    "resolve": S.RESOLVED,
    "mark_unsolvable": S.UNSOLVABLE,
    "dismiss": S.DISMISSED,
}


def _perform(name: str, ticket: Any, actor: Any) -> Any:
    """Call the action of `name` with valid arguments."""
    calls: dict[str, Callable[[], Any]] = {
        "assign_to_support": lambda: actions.assign_to_support(ticket, actor=actor, note="bitte"),
        "return_to_cm": lambda: actions.return_to_cm(ticket, actor=actor, reason="kein Fall"),
        "take": lambda: actions.take_ticket(ticket, actor=actor),
        "release": lambda: actions.release_ticket(ticket, actor=actor, reason="Urlaub"),
        "request_private_data": lambda: actions.request_private_data(
            ticket, actor=actor, text="Bitte schreib uns eine DM."
        ),
        "ask_department": lambda: actions.ask_department(
            ticket,
            actor=actor,
            department=DepartmentFactory(slug="technical"),
            question="Ist die Störung bekannt?",
        ),
        "withdraw_department_request": lambda: actions.withdraw_department_request(
            ticket, actor=actor, reason="selbst gelöst"
        ),
        "close_no_response": lambda: actions.close_no_response(ticket, actor=actor),
        "schedule_resubmission": lambda: actions.schedule_resubmission(
            ticket, actor=actor, resubmission_on=timezone.localdate() + timedelta(days=3)
        ),
        "resolve": lambda: actions.resolve_ticket(ticket, actor=actor),
        "mark_unsolvable": lambda: actions.mark_unsolvable(
            ticket, actor=actor, topic="Sperrgut in der Blitzbox"
        ),
        "dismiss": lambda: actions.dismiss_ticket(ticket, actor=actor, reason="spam"),
        "reopen": lambda: actions.reopen_ticket(ticket, actor=actor, reason="doch offen"),
    }
    return calls[name]()


def _expected(name: str, state: str, persona: str) -> str:
    sources, allowed = TABLE[name]
    roles_here = allowed.get(state, allowed[None])
    any_role = set().union(*allowed.values())
    if state in sources:
        return "ok" if persona in roles_here else "403"
    if allowed[None] is ASSIGNEE_OR_LEAD and persona == AGENT and state in UNASSIGNED_STATES:
        return "403"  # nobody is the assignee of an unassigned ticket
    return "409" if persona in any_role else "403"


UNASSIGNED_STATES = (S.NEW, S.SUPPORT, S.DISMISSED)
CASES = [(name, state, persona) for name in TABLE for state in ALL_STATES for persona in PERSONAS]


@pytest.mark.parametrize(("name", "state", "persona"), CASES)
def test_transition_table(name: str, state: str, persona: str, request: Any) -> None:
    # given a ticket in `state`, assigned to `agent`, with a sent answer (the guard holds)
    agent = request.getfixturevalue("agent")
    actor = request.getfixturevalue(persona)
    ticket = TicketFactory()
    ReplyFactory(ticket=ticket, author=agent, kind=ReplyKind.ANSWER, status=ReplyStatus.SENT)
    assignee = agent if state not in UNASSIGNED_STATES else None
    ticket = force_state(ticket, state, assignee=assignee)
    expected = _expected(name, state, persona)

    # when the persona performs the transition
    if expected == "ok":
        result = _perform(name, ticket, actor)

        # then the state moved and one event records it
        event = result.events.get(kind=TicketEventKind.TRANSITION, transition=name)
        assert (event.from_state, event.actor_id) == (state, actor.pk)
        if name in EXPECTED_TARGET:
            assert result.state == EXPECTED_TARGET[name]
        return
    error = NotAllowedForRole if expected == "403" else InvalidTransition
    with pytest.raises(error):
        _perform(name, ticket, actor)

    # then nothing changed
    ticket.refresh_from_db()
    assert ticket.state == state
    assert not ticket.events.filter(transition=name).exists()


@pytest.mark.parametrize("name", sorted(SYSTEM_TRANSITIONS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_system_transitions_are_refused_to_people(name: str, persona: str, request: Any) -> None:
    actor = request.getfixturevalue(persona)
    ticket = TicketFactory()

    with pytest.raises(SystemTransitionOnly):
        actions.ensure_may_perform(actor, ticket, name)

    assert name not in actions.available_transitions(ticket, actor)


@pytest.mark.parametrize("name", ["resolve", "mark_unsolvable"])
def test_resolve_and_unsolvable_need_a_sent_answer(name: str, agent: Any) -> None:
    ticket = force_state(TicketFactory(), S.IN_PROGRESS, assignee=agent)
    reply = ReplyFactory(ticket=ticket, author=agent, kind=ReplyKind.HOLDING)
    force_reply_status(reply, ReplyStatus.SENT)

    with pytest.raises(ReplyNotSent):
        _perform(name, ticket, agent)

    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda t, a: actions.return_to_cm(t, actor=a, reason="  "), "reason"),
        (lambda t, a: actions.release_ticket(t, actor=a, reason=""), "reason"),
        (lambda t, a: actions.reopen_ticket(t, actor=a, reason=""), "reason"),
        (lambda t, a: actions.withdraw_department_request(t, actor=a, reason=""), "reason"),
        (lambda t, a: actions.request_private_data(t, actor=a, text=""), "text"),
        (lambda t, a: actions.dismiss_ticket(t, actor=a, reason="duplicate"), "duplicate_of"),
        (lambda t, a: actions.dismiss_ticket(t, actor=a, reason="boring"), "reason"),
        (
            lambda t, a: actions.schedule_resubmission(
                t, actor=a, resubmission_on=timezone.localdate()
            ),
            "resubmission_on",
        ),
        (
            lambda t, a: actions.ask_department(
                t, actor=a, department=DepartmentFactory(slug="sales"), question=" "
            ),
            "question",
        ),
    ],
)
def test_required_arguments_are_refused_with_the_field_named(
    call: Callable[[Any, Any], Any], field: str, team_lead: Any
) -> None:
    ticket = TicketFactory()

    with pytest.raises(InvalidArgument) as refused:
        call(ticket, team_lead)

    assert refused.value.field == field
    assert not ticket.events.filter(kind=TicketEventKind.TRANSITION).exists()


@pytest.mark.parametrize(
    ("state", "assigned", "expected"),
    [
        (S.RESOLVED, True, S.IN_PROGRESS),
        (S.RESOLVED, False, S.SUPPORT),
        (S.UNSOLVABLE, True, S.IN_PROGRESS),
        (S.DISMISSED, False, S.NEW),
    ],
)
def test_reopen_has_dynamic_targets(
    state: str, assigned: bool, expected: str, agent: Any, team_lead: Any
) -> None:
    ticket = force_state(TicketFactory(), state, assignee=agent if assigned else None)

    ticket = actions.reopen_ticket(ticket, actor=team_lead, reason="Kunde meldet sich erneut")

    assert ticket.state == expected
    assert ticket.resolved_at is None


@pytest.mark.parametrize(
    ("state", "assigned", "expected"),
    [
        (S.WAITING_CUSTOMER, True, S.IN_PROGRESS),
        (S.RESUBMISSION, True, S.IN_PROGRESS),
        (S.RESOLVED, False, S.SUPPORT),
        (S.UNSOLVABLE, True, S.IN_PROGRESS),
    ],
)
def test_customer_replied_has_dynamic_targets(
    state: str, assigned: bool, expected: str, agent: Any
) -> None:
    ticket = force_state(TicketFactory(), state, assignee=agent if assigned else None)
    mention = ticket.mentions.get()

    fired = actions.customer_replied(ticket, mention=mention, now=timezone.now())

    ticket.refresh_from_db()
    assert fired and ticket.state == expected
    event = ticket.events.get(transition="customer_replied")
    assert event.actor is None and event.from_state == state


def test_team_lead_takes_for_an_agent_but_an_agent_not_for_another(
    agent: Any, other_agent: Any, team_lead: Any
) -> None:
    ticket = force_state(TicketFactory(), S.SUPPORT)

    with pytest.raises(NotAllowedForRole):
        actions.take_ticket(ticket, actor=agent, assignee=other_agent)
    ticket = actions.take_ticket(ticket, actor=team_lead, assignee=other_agent)

    assert (ticket.state, ticket.assignee) == (S.IN_PROGRESS, other_agent)
    assert ticket.events.get(transition="take").data == {"assignee": other_agent.pk}


def test_events_carry_actor_transition_states_time_and_note(cm: Any) -> None:
    ticket = TicketFactory()
    before = timezone.now()

    actions.assign_to_support(ticket, actor=cm, note="Braucht Kundendaten")

    event = ticket.events.get(kind=TicketEventKind.TRANSITION)
    assert event.actor == cm
    assert (event.transition, event.from_state, event.to_state) == (
        "assign_to_support",
        S.NEW,
        S.SUPPORT,
    )
    assert event.note == "Braucht Kundendaten"
    assert before <= event.created_at <= timezone.now()


def test_available_transitions_offer_what_the_user_may_do_now(
    cm: Any, agent: Any, team_lead: Any
) -> None:
    ticket = TicketFactory()

    assert set(actions.available_transitions(ticket, cm)) == {"assign_to_support", "dismiss"}
    assert actions.available_transitions(ticket, agent) == []
    # no answer sent yet: resolve is not offered even to the team lead
    assert set(actions.available_transitions(ticket, team_lead)) == {
        "assign_to_support",
        "dismiss",
    }
