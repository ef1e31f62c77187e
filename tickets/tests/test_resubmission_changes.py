"""Issue 17: a Wiedervorlage's date is shown (ticket, timeline, queue) and the assignee can
change it or resume early, each a transition of the table with its event."""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.errors import InvalidArgument, NotAllowedForRole
from tickets import actions, sla
from tickets.choices import TicketState
from tickets.tests.factories import TicketFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


def _on_resubmission(agent: Any, days: int = 3) -> Any:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    day = sla.desk_today(timezone.now()) + timedelta(days=days)
    return actions.schedule_resubmission(ticket, actor=agent, resubmission_on=day)


def test_the_assignee_changes_the_date_once_and_the_event_keeps_both(agent: Any) -> None:
    ticket = _on_resubmission(agent)
    old_day = ticket.resubmission_on
    new_day = old_day + timedelta(days=4)

    ticket = actions.reschedule_resubmission(ticket, actor=agent, resubmission_on=new_day)

    assert (ticket.state, ticket.resubmission_on) == (TicketState.RESUBMISSION, new_day)
    assert ticket.resubmission_due_at == sla.resubmission_due_at(new_day)
    event = ticket.events.get(transition="reschedule_resubmission")
    assert event.data["resubmission_on"] == new_day.isoformat()
    assert event.data["previous_resubmission_on"] == old_day.isoformat()


def test_a_date_today_or_earlier_is_refused(agent: Any) -> None:
    ticket = _on_resubmission(agent)

    with pytest.raises(InvalidArgument):
        actions.reschedule_resubmission(
            ticket, actor=agent, resubmission_on=sla.desk_today(timezone.now())
        )


def test_only_the_assignee_or_a_team_lead_changes_it(agent: Any, other_agent: Any) -> None:
    ticket = _on_resubmission(agent)

    with pytest.raises(NotAllowedForRole):
        actions.resume_early(ticket, actor=other_agent)


def test_resume_early_takes_it_up_again_with_its_event(agent: Any) -> None:
    ticket = _on_resubmission(agent)

    ticket = actions.resume_early(ticket, actor=agent, note="Kunde hat angerufen")

    assert (ticket.state, ticket.resubmission_on, ticket.resubmission_due_at) == (
        TicketState.IN_PROGRESS,
        None,
        None,
    )
    event = ticket.events.get(transition="resume_early")
    assert (event.from_state, event.to_state, event.note) == (
        "resubmission",
        "in_progress",
        "Kunde hat angerufen",
    )


def test_the_date_is_shown_on_the_ticket_its_timeline_and_the_change_form(
    client: Any, agent: Any
) -> None:
    ticket = _on_resubmission(agent)
    client.force_login(agent)

    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    day = ticket.resubmission_on.isoformat()
    assert f'<time datetime="{day}">' in page  # the header
    assert "event-follow-up" in page  # the timeline event
    assert 'data-transition="reschedule_resubmission"' in page
    assert f'name="resubmission_on" required value="{day}"' in page
    assert 'data-transition="resume_early"' in page


def test_the_page_changes_the_date_through_the_form(client: Any, agent: Any) -> None:
    ticket = _on_resubmission(agent)
    new_day = ticket.resubmission_on + timedelta(days=1)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "reschedule_resubmission"]),
        {"expected_state": "resubmission", "resubmission_on": new_day.isoformat()},
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.resubmission_on == new_day


def test_the_api_changes_the_date(agent: Any) -> None:
    from rest_framework.test import APIClient

    ticket = _on_resubmission(agent)
    new_day = ticket.resubmission_on + timedelta(days=2)
    api = APIClient()
    api.force_authenticate(agent)

    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/transitions/",
        {"transition": "reschedule_resubmission", "resubmission_on": new_day.isoformat()},
        format="json",
    )

    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.resubmission_on == new_day


def test_any_open_ticket_is_linked_to_a_topic_and_the_topic_lists_it(
    client: Any, agent: Any, team_lead: Any
) -> None:
    from tickets.models import Topic

    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_topic", args=[ticket.pk]), {"topic": "Fahrradmitnahme"}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    topic = Topic.objects.get(name="Fahrradmitnahme")
    assert ticket.topic == topic and ticket.state == TicketState.IN_PROGRESS
    assert ticket.events.filter(kind="link", data__topic=topic.pk).exists()
    client.force_login(team_lead)
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    assert reverse("tickets:topic_tickets", args=[topic.pk]) in dashboard
    listing = client.get(reverse("tickets:topic_tickets", args=[topic.pk])).content.decode()
    assert f'id="topic-ticket-{ticket.pk}"' in listing


def test_a_closed_ticket_is_not_linked_here(agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.RESOLVED, assignee=agent)

    with pytest.raises(InvalidArgument):
        actions.link_topic(ticket, actor=agent, topic="Fahrradmitnahme")
