"""Incident pages (issue 14, §4): list, page with charts, members and statements, the
forms (four eyes), closing with the summary; the banner on every CM and agent page; the
dashboard's incidents; the demo's replay of a burst."""

from typing import Any

import pytest
from django.core.management import call_command

from monitoring.choices import Platform
from tickets.actions import incidents
from tickets.choices import IncidentState, ReplyKind, StatementKind
from tickets.models import Incident, Reply
from tickets.tests.factories import ChannelFactory
from tickets.tests.incident_data import demo_channel, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Any:
    return demo_channel()


def test_page_shows_charts_members_and_statement_in_constant_queries(
    client: Any, demo: Any, cm: Any, django_assert_max_num_queries: Any
) -> None:
    incident = incidents.open_incident(
        actor=cm, title="Störung Köln", mention_ids=[m.pk for m in post(demo, 12)]
    )
    incidents.write_statement(incident, actor=cm, kind=StatementKind.HOLDING, text="Hallo {name}")
    client.force_login(cm)
    client.get(f"/incidents/{incident.pk}/")  # warm the per-process caches

    with django_assert_max_num_queries(22):
        response = client.get(f"/incidents/{incident.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('id="member-') == 12
    assert "<svg" in html and "Störung Köln" in html
    assert "Waiting for a colleague" in html  # the author cannot approve
    assert 'id="incident-banner-slot"' in html  # the page loads the banner
    banner = client.get("/incidents/banner/").content.decode()
    assert 'id="incident-banner"' in banner and "Störung Köln" in banner


def test_colleague_approves_in_the_browser_and_members_get_the_reply(
    client: Any, demo: Any, cm: Any, agent: Any
) -> None:
    mentions = post(demo, 3)
    client.force_login(cm)
    response = client.post(
        "/incidents/open/", {"title": "Störung", "tickets": f"{mentions[0].ticket_id}"}
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and incident.members.count() == 1
    client.post(
        f"/incidents/{incident.pk}/members/", {"by": "ticket", "mention": mentions[1].ticket_id}
    )
    client.post(
        f"/incidents/{incident.pk}/statements/",
        {"kind": StatementKind.HOLDING, "text": "Hallo {name}, wir sind dran."},
    )
    statement = incident.statements.get()

    client.post(f"/incidents/{incident.pk}/statements/{statement.pk}/approve/")
    assert not Reply.objects.exists()  # four eyes: the author's approval was refused
    client.force_login(agent)
    client.post(f"/incidents/{incident.pk}/statements/{statement.pk}/approve/")

    assert Reply.objects.filter(kind=ReplyKind.HOLDING).count() == 2
    page = client.get(f"/tickets/{mentions[0].ticket_id}/").content.decode()
    assert "Hallo Kim0, wir sind dran." in page


def test_closing_shows_the_summary_and_the_tickets_that_stay_open(
    client: Any, demo: Any, cm: Any
) -> None:
    incident = incidents.open_incident(
        actor=cm, title="Störung", mention_ids=[m.pk for m in post(demo, 2)]
    )
    client.force_login(cm)

    client.post(f"/incidents/{incident.pk}/close/", {"summary": "Behoben um 19 Uhr."})

    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Behoben um 19 Uhr." in html
    assert 'id="incident-banner"' not in client.get("/incidents/banner/").content.decode()


def test_blank_close_and_an_agent_opening_are_refused_with_a_message(
    client: Any, demo: Any, cm: Any, agent: Any
) -> None:
    incident = incidents.open_incident(actor=cm, title="Störung")
    client.force_login(agent)

    client.post("/incidents/open/", {"title": "Noch eine"})
    response = client.post(f"/incidents/{incident.pk}/close/", {"summary": "x"}, follow=True)

    assert Incident.objects.count() == 1
    assert Incident.objects.get().state == IncidentState.OPEN
    assert "Only CMs and team leads" in response.content.decode()


def test_list_dashboard_and_an_expert_404(
    client: Any, demo: Any, cm: Any, team_lead: Any, expert: Any
) -> None:
    incidents.open_incident(actor=cm, title="Störung Köln", mention_ids=[post(demo, 1)[0].pk])
    client.force_login(team_lead)

    listing = client.get("/incidents/").content.decode()
    dashboard = client.get("/dashboard/").content.decode()
    client.force_login(expert)

    assert "Störung Köln" in listing and "Störung Köln" in dashboard
    assert client.get("/incidents/").status_code == 404


def test_replay_burst_posts_a_burst_into_the_demo_channel(cm: Any) -> None:
    channel = ChannelFactory(
        slug="demo", platform=Platform.DEMO, keywords=["Telvia"], own_accounts=["@Telvia_hilft"]
    )

    call_command("replay_burst")
    call_command("replay_burst")  # a second run is a new burst: fresh posts

    assert channel.mentions.count() == 24
    assert channel.tickets.count() == 24
