"""The staffing API (issue 16, point 6): presence, the routing switch, capacity and skills."""

from datetime import time
from typing import Any

import pytest
from django.utils import timezone

from servicedesk.tests.apiclient import assert_error, client_for
from staffing.choices import Duty, PresenceStatus
from staffing.models import RoutingSettings, Shift, StaffMember

pytestmark = pytest.mark.django_db


def test_the_caller_sets_his_presence_and_everyone_sees_it(agent: Any, cm: Any) -> None:
    Shift.objects.create(
        user=agent,
        duty=Duty.SUPPORT,
        weekday=timezone.localtime().weekday(),
        starts=time(0),
        ends=time(0),
    )
    response = client_for(agent).post("/api/v1/presence/", {"status": "online"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "online"
    assert StaffMember.objects.get(user=agent).status == PresenceStatus.ONLINE
    board = {row["username"]: row for row in client_for(cm).get("/api/v1/presence/").json()}
    assert board["agent"]["status"] == "online"
    assert board["agent"]["duties"] == ["support"]
    assert board["cm"]["status"] == "offline"


@pytest.mark.parametrize("body", [{"status": "busy"}, {"status": 1}, {}])
def test_a_bad_presence_is_a_400_and_changes_nothing(agent: Any, body: Any) -> None:
    response = client_for(agent).post("/api/v1/presence/", body, format="json")

    assert "status" in assert_error(response, 400)["errors"]
    assert not StaffMember.objects.filter(user=agent, status=PresenceStatus.ONLINE).exists()


def test_presence_is_for_desk_staff(expert: Any) -> None:
    response = client_for(expert).post("/api/v1/presence/", {"status": "online"}, format="json")

    assert_error(response, 403)


def test_team_leads_switch_auto_assignment(team_lead: Any, agent: Any) -> None:
    lead = client_for(team_lead)
    response = lead.patch(
        "/api/v1/routing/", {"auto_assign": True, "max_open_per_agent": 3}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["auto_assign"] is True
    assert lead.get("/api/v1/routing/").json()["max_open_per_agent"] == 3
    assert RoutingSettings.objects.get().updated_by == team_lead
    assert_error(
        client_for(agent).patch("/api/v1/routing/", {"auto_assign": False}, format="json"), 403
    )
    assert RoutingSettings.objects.get().auto_assign is True


@pytest.mark.parametrize(
    "body", [{}, {"max_open_per_agent": 0}, {"max_open_per_agent": "3"}, {"auto_assign": "yes"}]
)
def test_bad_routing_settings_are_a_400(team_lead: Any, body: Any) -> None:
    assert_error(client_for(team_lead).patch("/api/v1/routing/", body, format="json"), 400)
    assert not RoutingSettings.objects.filter(max_open_per_agent=0).exists()


def test_team_leads_set_capacity_and_skills(team_lead: Any, agent: Any) -> None:
    url = f"/api/v1/users/{agent.pk}/routing/"
    response = client_for(team_lead).patch(
        url, {"max_open": 2, "languages": ["DE", "en"], "channels": ["forum"]}, format="json"
    )

    assert response.status_code == 200, response.content
    member = StaffMember.objects.get(user=agent)
    assert (member.max_open, member.languages, member.channels) == (2, ["de", "en"], ["forum"])
    response = client_for(team_lead).patch(url, {"max_open": None}, format="json")
    assert response.json()["max_open"] is None
    assert_error(client_for(agent).patch(url, {"max_open": 9}, format="json"), 403)
    assert_error(client_for(team_lead).patch(url, {"max_open": 101}, format="json"), 400)
    assert_error(
        client_for(team_lead).patch(
            "/api/v1/users/999999/routing/", {"max_open": 1}, format="json"
        ),
        404,
    )


def test_tickets_show_who_assigned_them(team_lead: Any, agent: Any) -> None:
    from tickets import actions
    from tickets.choices import TicketState
    from tickets.tests.factories import TicketFactory
    from tickets.tests.helpers import force_state

    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    actions.take_ticket(ticket, actor=team_lead, assignee=agent)

    body = client_for(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()

    assert body["assignee"]["username"] == "agent"
    assert body["assigned_by"] == "team_lead"
    assert body["assigned_at"]
