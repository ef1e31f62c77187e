"""Notifications in the recipient's language, linked to their object, labelled right (issue 17)."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from servicedesk.models import Profile
from tickets import actions
from tickets.actions.notifications import group_members, notification_row
from tickets.choices import NotificationKind, TicketState
from tickets.models import DepartmentRequest, Notification
from tickets.tests.factories import MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_state
from tickets.views.search import snippets_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def german_desk(settings: Any) -> None:
    """The desk default is German here (the suite runs in English otherwise)."""
    settings.LANGUAGE_CODE = "de"


def _speaks(user: Any, language: str) -> Any:
    Profile.objects.update_or_create(user=user, defaults={"language": language})
    return user


def test_each_recipient_reads_the_notification_in_their_language(
    agent: Any, other_agent: Any, team_lead: Any
) -> None:
    # given an English-speaking agent, a German one and one without a profile
    _speaks(agent, "en")
    _speaks(other_agent, "de")
    Profile.objects.filter(user=team_lead).delete()
    ticket = TicketFactory()

    # when one notification goes to all three, written while the desk runs in English
    with translation.override("en"):
        actions.notify(
            [agent, other_agent, team_lead],
            NotificationKind.ASSIGNED,
            ticket=ticket,
            at=timezone.now(),
            text=lambda: _("Ticket #%(ticket)s was assigned to you.") % {"ticket": ticket.pk},
        )

    # then each reads it in their own language, the one without a profile in the desk default
    texts = dict(Notification.objects.values_list("user__username", "text"))
    assert texts[agent.username] == f"Ticket #{ticket.pk} was assigned to you."
    assert texts[other_agent.username] == f"Ticket #{ticket.pk} wurde Ihnen zugewiesen."
    assert texts[team_lead.username] == f"Ticket #{ticket.pk} wurde Ihnen zugewiesen."


def test_group_members_carry_their_language_for_the_sweeps(agent: Any, other_agent: Any) -> None:
    _speaks(agent, "en")
    members = group_members("support_agent")["support_agent"]

    rows = {
        user.pk: notification_row(
            user,
            NotificationKind.SLA_WARNING,
            ticket_id=1,
            text=lambda: _("Ticket #%(ticket)s was assigned to you.") % {"ticket": 1},
            at=timezone.now(),
            key="k",
        ).text
        for user in members
    }

    assert rows[agent.pk] == "Ticket #1 was assigned to you."
    assert rows[other_agent.pk] == "Ticket #1 wurde Ihnen zugewiesen."


def test_a_department_experts_notification_opens_the_request(
    client: Client, agent: Any, expert: Any, department: Any
) -> None:
    # given an agent who asks the department (the expert reads German)
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    with translation.override("en"):
        actions.ask_department(ticket, actor=agent, department=department, question="Defekt?")
    request = DepartmentRequest.objects.get(ticket=ticket)
    notification = Notification.objects.get(user=expert)
    assert notification.text.startswith("Neue Rückfrage des Social-Media-Teams an")
    client.force_login(expert)

    # when the expert opens the notification from the list
    page = client.get(reverse("tickets:notifications"), HTTP_ACCEPT_LANGUAGE="de")
    response = client.post(
        reverse("tickets:notification_read", args=[notification.pk]), {"open": "1"}
    )

    # then the button says "Öffnen" and leads to the department request
    assert "Öffnen</button>" in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:department_request_detail", args=[request.pk])


def test_the_open_button_of_a_ticket_notification_says_oeffnen(client: Any, agent: Any) -> None:
    ticket = TicketFactory()
    actions.notify(
        [agent], NotificationKind.ASSIGNED, ticket=ticket, at=timezone.now(), text="Ticket"
    )
    client.force_login(agent)

    html = client.get(reverse("tickets:notifications"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert f"Öffnen #{ticket.pk}</button>" in html
    assert "Offen #" not in html


def test_a_search_hit_in_a_reply_is_labelled_antwort(agent: Any) -> None:
    reply = ReplyFactory(text="Die Kupplung wird ersetzt")

    with translation.override("de"):
        snippets = snippets_for([reply.ticket_id], "Kupplung")
        labels = [str(hit["label"]) for hit in snippets[reply.ticket_id]]

    assert labels == ["Antwort"]


@pytest.mark.parametrize(
    ("private", "kind", "text"),
    [
        (True, NotificationKind.DIRECT_MESSAGE, "Neue Direktnachricht in Ticket #{}."),
        (False, NotificationKind.NEW_MESSAGE, "Neue Nachricht in Ticket #{}."),
    ],
)
def test_a_direct_message_arrival_is_titled_as_such(
    agent: Any, private: bool, kind: str, text: str
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    MentionFactory(
        ticket=ticket, channel=ticket.channel, customer=ticket.customer, is_private=private
    )

    assert actions.notify_new_mentions([ticket.pk], now=timezone.now()) == 1

    notification = Notification.objects.get(user=agent, ticket=ticket)
    assert (notification.kind, notification.text) == (kind, text.format(ticket.pk))
