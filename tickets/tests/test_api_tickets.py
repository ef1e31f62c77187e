"""`/api/v1/tickets/` (DESIGN §6): lists with filters, the detail, transitions with the
checks in the order 404 → 400 → 403 → 409, and internal notes."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.choices import Priority, ReplyKind, ReplyStatus, SlaKind, TicketEventKind, TicketState
from tickets.models import SlaBreach, Ticket, TicketLink, TicketNote, Topic
from tickets.tests.factories import (
    ChannelFactory,
    DepartmentFactory,
    ReplyFactory,
    SlaClockFactory,
    TicketFactory,
)
from tickets.tests.helpers import force_reply_status, force_state

pytestmark = pytest.mark.django_db

LIST = "/api/v1/tickets/"


def detail(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/"


def transitions(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/transitions/"


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {item["id"] for item in response.json()["results"]}


# --------------------------------------------------------------------------- reading


def test_list_needs_credentials() -> None:
    from rest_framework.test import APIClient

    assert_error(APIClient().get(LIST), 401, "not_authenticated")


@pytest.mark.parametrize("persona", ["cm", "agent", "team_lead", "api_client_user"])
def test_desk_staff_and_api_clients_see_every_ticket(request: Any, persona: str) -> None:
    tickets = {TicketFactory().pk, TicketFactory().pk}

    assert ids(client_for(request.getfixturevalue(persona)).get(LIST)) == tickets


def test_department_expert_sees_no_ticket_in_the_list(expert: Any) -> None:
    TicketFactory()

    assert ids(client_for(expert).get(LIST)) == set()


def test_department_expert_gets_404_for_a_ticket(expert: Any) -> None:
    ticket = TicketFactory()

    assert_error(client_for(expert).get(detail(ticket)), 404, "not_found")


def test_unknown_ticket_answers_404(agent: Any) -> None:
    assert_error(client_for(agent).get("/api/v1/tickets/99999999/"), 404)


def test_list_filters_by_state_stage_assignee_and_channel(agent: Any, other_agent: Any) -> None:
    new = TicketFactory()
    mine = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    theirs = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=other_agent)
    waiting = force_state(TicketFactory(), TicketState.WAITING_DEPARTMENT, assignee=agent)
    forum = TicketFactory(channel=ChannelFactory(slug="forum"))
    client = client_for(agent)

    assert ids(client.get(LIST, {"state": "in_progress"})) == {mine.pk, theirs.pk}
    assert ids(client.get(LIST, {"state": ["new", "waiting_department"]})) == {
        new.pk,
        waiting.pk,
        forum.pk,
    }
    assert ids(client.get(LIST, {"stage": "support"})) == {mine.pk, theirs.pk}
    assert ids(client.get(LIST, {"stage": "department"})) == {waiting.pk}
    assert ids(client.get(LIST, {"assignee": agent.pk})) == {mine.pk, waiting.pk}
    assert ids(client.get(LIST, {"channel": "forum"})) == {forum.pk}


def test_list_filters_breached_and_at_risk(agent: Any) -> None:
    now = timezone.now()
    breached = SlaClockFactory(due_at=now - timedelta(minutes=1)).ticket
    SlaBreach.objects.create(
        clock=breached.clocks.get(), due_at=now - timedelta(minutes=1), detected_at=now
    )
    at_risk = SlaClockFactory(due_at=now + timedelta(minutes=1), warned_at=now).ticket
    SlaClockFactory(due_at=now + timedelta(minutes=9))
    client = client_for(agent)

    assert ids(client.get(LIST, {"breached": "true"})) == {breached.pk}
    assert ids(client.get(LIST, {"at_risk": "true"})) == {at_risk.pk}


@pytest.mark.parametrize(
    "params",
    [{"state": "flying"}, {"stage": "nowhere"}, {"assignee": "me"}, {"breached": "perhaps"}],
)
def test_list_with_bad_filters_answers_400(agent: Any, params: dict[str, str]) -> None:
    assert_error(client_for(agent).get(LIST, params), 400, "invalid")


def test_list_query_count_does_not_grow_with_the_page(
    agent: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(25):
        force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client = client_for(agent)

    with django_assert_max_num_queries(5):
        response = client.get(LIST, {"page_size": 25})

    assert len(response.json()["results"]) == 25


def test_detail_shows_mentions_replies_clocks_links_and_available_transitions(
    cm: Any, agent: Any
) -> None:
    now = timezone.now()
    ticket = TicketFactory()
    other = TicketFactory()
    TicketLink.objects.create(from_ticket=ticket, to_ticket=other, kind="related", created_at=now)
    ReplyFactory(ticket=ticket, author=agent)
    clock = SlaClockFactory(ticket=ticket, due_at=now + timedelta(minutes=5))

    body = client_for(cm).get(detail(ticket)).json()

    assert body["state"] == "new" and body["stage"] == "cm"
    assert [m["id"] for m in body["mentions"]] == [ticket.mentions.get().pk]
    assert [r["author"]["id"] for r in body["replies"]] == [agent.pk]
    [shown] = body["clocks"]
    assert (shown["id"], shown["kind"], shown["breached"]) == (clock.pk, "first_response", False)
    assert 200 < shown["remaining_seconds"] <= 300
    assert body["links"] == [
        {
            "kind": "related",
            "direction": "out",
            "ticket": other.pk,
            "created_at": body["links"][0]["created_at"],
        }
    ]
    assert set(body["available_transitions"]) == {"assign_to_support", "dismiss"}


def test_detail_marks_an_overdue_running_clock_breached(agent: Any) -> None:
    clock = SlaClockFactory(due_at=timezone.now() - timedelta(seconds=5))

    [shown] = client_for(agent).get(detail(clock.ticket)).json()["clocks"]

    assert shown["breached"] is True
    assert shown["remaining_seconds"] < 0


def test_api_client_is_offered_no_transition(api_client_user: Any) -> None:
    ticket = TicketFactory()

    body = client_for(api_client_user).get(detail(ticket)).json()

    assert body["available_transitions"] == []


# --------------------------------------------------------------------------- transitions


def test_assign_to_support_moves_the_ticket_and_answers_it(cm: Any) -> None:
    ticket = TicketFactory()

    response = client_for(cm).post(
        transitions(ticket),
        {"transition": "assign_to_support", "note": "bitte", "expected_state": "new"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["state"] == "support"
    event = ticket.events.get(kind=TicketEventKind.TRANSITION)
    assert (event.transition, event.actor, event.note) == ("assign_to_support", cm, "bitte")


def test_take_makes_the_caller_the_assignee(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)

    response = client_for(agent).post(transitions(ticket), {"transition": "take"}, format="json")

    assert response.json()["assignee"]["id"] == agent.pk
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.IN_PROGRESS


def test_team_lead_takes_for_an_agent(team_lead: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)

    response = client_for(team_lead).post(
        transitions(ticket), {"transition": "take", "assignee": agent.pk}, format="json"
    )

    assert response.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).assignee == agent


def test_schedule_resubmission_with_a_date(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    on = (timezone.now() + timedelta(days=3)).date()

    response = client_for(agent).post(
        transitions(ticket),
        {"transition": "schedule_resubmission", "resubmission_on": on.isoformat(),
         "handover_reference": "KS-4711"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.state, ticket.resubmission_on, ticket.handover_reference) == (
        TicketState.RESUBMISSION,
        on,
        "KS-4711",
    )


def test_ask_department_with_shared_mentions(agent: Any, department: Any, expert: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    mention = ticket.mentions.get()

    response = client_for(agent).post(
        transitions(ticket),
        {"transition": "ask_department", "department": department.slug,
         "question": "Ist der Zug ausgefallen?", "shared_mentions": [mention.pk]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200
    request = ticket.department_requests.get()
    assert list(request.shared_mentions.all()) == [mention]


def test_mark_unsolvable_with_a_new_topic_name(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = ReplyFactory(ticket=ticket, author=agent, kind=ReplyKind.ANSWER)
    force_reply_status(reply, ReplyStatus.SENT)

    response = client_for(agent).post(
        transitions(ticket),
        {"transition": "mark_unsolvable", "topic": "WLAN im Zug"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["topic"] == "WLAN im Zug"
    assert Topic.objects.get().name == "WLAN im Zug"


def test_dismiss_as_duplicate_links_the_original(cm: Any) -> None:
    ticket, original = TicketFactory(), TicketFactory()

    response = client_for(cm).post(
        transitions(ticket),
        {"transition": "dismiss", "reason": "duplicate", "duplicate_of": original.pk},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["links"][0]["ticket"] == original.pk


def test_transition_on_an_invisible_ticket_answers_404_before_anything_else(expert: Any) -> None:
    ticket = TicketFactory()

    response = client_for(expert).post(
        transitions(ticket), {"transition": "nonsense"}, format="json"
    )

    assert_error(response, 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"transition": "fly_away"},
        {"transition": 12},
        {"transition": "assign_to_support", "expected_state": "limbo"},
        ["transition", "take"],
    ],
)
def test_unknown_or_missing_transition_answers_400(cm: Any, body: Any) -> None:
    ticket = TicketFactory()

    assert_error(client_for(cm).post(transitions(ticket), body, format="json"), 400, "invalid")
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.NEW


@pytest.mark.parametrize(
    ("state", "body", "field"),
    [
        (TicketState.SUPPORT, {"transition": "return_to_cm"}, "reason"),
        (TicketState.SUPPORT, {"transition": "return_to_cm", "reason": "   "}, "reason"),
        (TicketState.SUPPORT, {"transition": "take", "assignee": 99999999}, "assignee"),
        (TicketState.NEW, {"transition": "dismiss", "reason": "boring"}, "reason"),
        (TicketState.NEW, {"transition": "dismiss", "reason": "duplicate"}, "duplicate_of"),
        (TicketState.IN_PROGRESS, {"transition": "schedule_resubmission",
                                   "resubmission_on": "2001-01-01"}, "resubmission_on"),
        (TicketState.IN_PROGRESS, {"transition": "ask_department", "department": "nope",
                                   "question": "?"}, "department"),
        (TicketState.IN_PROGRESS, {"transition": "mark_unsolvable", "topic": 99999}, "topic"),
        (TicketState.IN_PROGRESS, {"transition": "request_private_data"}, "text"),
    ],
)  # fmt: skip
def test_bad_arguments_answer_400_naming_the_field(
    team_lead: Any, state: str, body: dict[str, Any], field: str
) -> None:
    ticket = force_state(TicketFactory(), state, assignee=team_lead)

    response = client_for(team_lead).post(transitions(ticket), body, format="json")

    assert field in assert_error(response, 400, "invalid")["errors"]
    assert Ticket.objects.get(pk=ticket.pk).state == state


def test_shared_mention_of_another_ticket_answers_400(agent: Any, department: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    foreign = TicketFactory().mentions.get()

    response = client_for(agent).post(
        transitions(ticket),
        {"transition": "ask_department", "department": department.slug, "question": "?",
         "shared_mentions": [foreign.pk]},
        format="json",
    )  # fmt: skip

    assert "shared_mentions" in assert_error(response, 400, "invalid")["errors"]


def test_bad_arguments_answer_400_before_the_role_check(api_client_user: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)

    response = client_for(api_client_user).post(
        transitions(ticket), {"transition": "return_to_cm"}, format="json"
    )

    assert_error(response, 400)


@pytest.mark.parametrize("name", ["customer_replied", "department_answered", "resubmission_due"])
def test_system_transitions_answer_403(team_lead: Any, name: str) -> None:
    ticket = force_state(TicketFactory(), TicketState.WAITING_DEPARTMENT, assignee=team_lead)

    response = client_for(team_lead).post(transitions(ticket), {"transition": name}, format="json")

    assert_error(response, 403, "system_transition")


@pytest.mark.parametrize(
    ("persona", "state", "body"),
    [
        ("api_client_user", TicketState.NEW, {"transition": "assign_to_support"}),
        ("api_client_user", TicketState.SUPPORT, {"transition": "take"}),
        ("agent", TicketState.NEW, {"transition": "dismiss", "reason": "spam"}),
        ("cm", TicketState.SUPPORT, {"transition": "take"}),
        ("other_agent", TicketState.IN_PROGRESS, {"transition": "release", "reason": "x"}),
    ],
)
def test_role_that_may_not_act_answers_403(
    request: Any, agent: Any, persona: str, state: str, body: dict[str, Any]
) -> None:
    ticket = force_state(TicketFactory(), state, assignee=agent)

    response = client_for(request.getfixturevalue(persona)).post(
        transitions(ticket), body, format="json"
    )

    assert_error(response, 403, "not_allowed_for_role")
    assert Ticket.objects.get(pk=ticket.pk).state == state


def test_role_is_checked_before_a_stale_expected_state(api_client_user: Any) -> None:
    ticket = TicketFactory()

    response = client_for(api_client_user).post(
        transitions(ticket),
        {"transition": "assign_to_support", "expected_state": "support"},
        format="json",
    )

    assert_error(response, 403)


def test_stale_expected_state_answers_409(cm: Any) -> None:
    ticket = TicketFactory()

    response = client_for(cm).post(
        transitions(ticket),
        {"transition": "assign_to_support", "expected_state": "dismissed"},
        format="json",
    )

    assert_error(response, 409, "conflict")
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.NEW


def test_transition_from_the_wrong_state_answers_409(cm: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.RESOLVED)

    response = client_for(cm).post(
        transitions(ticket), {"transition": "assign_to_support"}, format="json"
    )

    assert_error(response, 409, "invalid_transition")


def test_failed_guard_answers_409(cm: Any) -> None:
    ticket = TicketFactory()

    response = client_for(cm).post(transitions(ticket), {"transition": "resolve"}, format="json")

    assert_error(response, 409, "reply_not_sent")
    assert Ticket.objects.get(pk=ticket.pk).state == TicketState.NEW


def test_second_of_two_concurrent_takes_gets_a_conflict(agent: Any, other_agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    first = client_for(agent).post(
        transitions(ticket), {"transition": "take", "expected_state": "support"}, format="json"
    )

    second = client_for(other_agent).post(
        transitions(ticket), {"transition": "take", "expected_state": "support"}, format="json"
    )

    assert first.status_code == 200
    assert_error(second, 409, "conflict")
    assert Ticket.objects.get(pk=ticket.pk).assignee == agent


def test_breach_raises_priority_visible_in_the_api(agent: Any) -> None:
    clock = SlaClockFactory(kind=SlaKind.FIRST_RESPONSE)
    Ticket.objects.filter(pk=clock.ticket_id).update(priority=Priority.HIGH)

    body = client_for(agent).get(detail(clock.ticket)).json()

    assert body["priority"] == "high"


# --------------------------------------------------------------------------- notes


def test_staff_adds_an_internal_note(agent: Any) -> None:
    ticket = TicketFactory()

    response = client_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/notes/", {"text": "Kunde ist Stammkunde."}, format="json"
    )

    assert response.status_code == 201
    note = TicketNote.objects.get()
    assert response.json()["id"] == note.pk
    assert (note.author, note.text) == (agent, "Kunde ist Stammkunde.")


def test_api_client_may_not_add_notes(api_client_user: Any) -> None:
    ticket = TicketFactory()

    response = client_for(api_client_user).post(
        f"/api/v1/tickets/{ticket.pk}/notes/", {"text": "Hallo"}, format="json"
    )

    assert_error(response, 403)
    assert not TicketNote.objects.exists()


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "a\x00b"}, {"text": ["x"]}])
def test_bad_note_answers_400(agent: Any, body: dict[str, Any]) -> None:
    ticket = TicketFactory()

    response = client_for(agent).post(f"/api/v1/tickets/{ticket.pk}/notes/", body, format="json")

    assert "text" in assert_error(response, 400, "invalid")["errors"]
    assert not TicketNote.objects.exists()


def test_expert_gets_404_adding_a_note(expert: Any) -> None:
    ticket = TicketFactory()
    DepartmentFactory()

    response = client_for(expert).post(
        f"/api/v1/tickets/{ticket.pk}/notes/", {"text": "x"}, format="json"
    )

    assert_error(response, 404)
