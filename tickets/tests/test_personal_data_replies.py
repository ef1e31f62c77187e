"""Issue 15, point 7: personal data in public replies. A public reply in which the guideline
checks find personal data is approved only with an override reason (recorded), a department
request does not pre-share posts with personal data, and a draft rejected for personal data
is not found by search."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from servicedesk.errors import InvalidArgument
from servicedesk.tests.apiclient import assert_error, client_for
from tickets import actions
from tickets.choices import ReplyStatus, TicketEventKind, TicketState
from tickets.models import DepartmentRequest, Reply
from tickets.tests.factories import MentionFactory, TicketFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db

WITH_IBAN = "Hallo Erika, wir überweisen auf DE89 3704 0044 0532 0130 00 zurück."
WITH_CUSTOMER_NUMBER = "Hallo Erika, Ihre Kundennummer 1234567 ist notiert."
WITH_EMAIL = "Hallo Erika, schreiben Sie an erika.muster@example.org."
CLEAN = "Hallo Erika, danke! Wir kümmern uns darum."


def pending(author: Any, text: str, visibility: str = "public") -> Reply:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=author)
    return actions.create_reply(
        ticket, actor=author, text=text, visibility=visibility, kind="answer", submit=True
    )


@pytest.mark.parametrize("text", [WITH_IBAN, WITH_CUSTOMER_NUMBER, WITH_EMAIL])
def test_public_reply_with_personal_data_is_refused_without_a_reason(
    agent: Any, other_agent: Any, text: str
) -> None:
    reply = pending(agent, text)

    with translation.override("de"), pytest.raises(InvalidArgument) as refused:
        actions.approve_reply(reply, actor=other_agent, override_reason="  ")

    assert "personenbezogene Daten" in str(refused.value)
    assert refused.value.field == "override_reason"
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.PENDING_REVIEW
    assert reply.personal_data_override == ""


def test_override_reason_approves_and_is_recorded(agent: Any, other_agent: Any) -> None:
    reply = pending(agent, WITH_CUSTOMER_NUMBER)

    reply = actions.approve_reply(
        reply, actor=other_agent, override_reason="Kunde hat es selbst öffentlich gepostet"
    )

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.APPROVED
    assert reply.personal_data_override == "Kunde hat es selbst öffentlich gepostet"
    event = reply.ticket.events.filter(kind=TicketEventKind.REPLY, data__step="approved").get()
    assert event.note == "Kunde hat es selbst öffentlich gepostet"
    assert event.data["personal_data_override"] is True


def test_clean_and_private_replies_need_no_reason(agent: Any, other_agent: Any) -> None:
    clean = actions.approve_reply(pending(agent, CLEAN), actor=other_agent)
    assert (clean.status, clean.personal_data_override) == (ReplyStatus.APPROVED, "")

    # A private reply may carry personal data (that is where it belongs).
    private = pending(agent, WITH_IBAN, visibility="private")
    private.refresh_from_db()
    if private.status == ReplyStatus.PENDING_REVIEW:
        private = actions.approve_reply(private, actor=other_agent)
    assert private.status in {ReplyStatus.APPROVED, ReplyStatus.SENDING, ReplyStatus.SENT}


def test_review_page_refuses_in_german_and_accepts_with_reason(
    client: Client, agent: Any, other_agent: Any
) -> None:
    reply = pending(agent, WITH_IBAN)
    client.force_login(other_agent)
    url = reverse("tickets:reply_approve", args=[reply.pk])

    refused = client.post(url, {}, HTTP_ACCEPT_LANGUAGE="de")

    assert refused.status_code == 400
    assert "personenbezogene Daten" in refused.content.decode()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.PENDING_REVIEW

    client.post(url, {"override_reason": "Rückerstattung auf Wunsch öffentlich bestätigt"})

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.APPROVED
    assert reply.personal_data_override.startswith("Rückerstattung")


def test_api_approve_needs_a_reason_for_personal_data(agent: Any, other_agent: Any) -> None:
    reply = pending(agent, WITH_EMAIL)
    url = f"/api/v1/replies/{reply.pk}/approve/"
    api = client_for(other_agent)

    body = assert_error(api.post(url, {}, format="json"), 400)
    assert "override_reason" in body["errors"]
    assert_error(api.post(url, {"override_reason": 12}, format="json"), 400)
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.PENDING_REVIEW

    answer = api.post(url, {"override_reason": "vom Kunden gewünscht"}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["personal_data_override"] == "vom Kunden gewünscht"


def test_department_request_does_not_pre_share_posts_with_personal_data(
    agent: Any, department: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    clean = ticket.mentions.get()
    clean.text = "Mein Modell X ist kaputt."
    clean.save(update_fields=["text"])
    private = MentionFactory(
        ticket=ticket,
        channel=ticket.channel,
        customer=ticket.customer,
        text="Meine Nummer: 0171 1234567, bitte zurückrufen",
    )

    with translation.override("de"), pytest.raises(InvalidArgument) as refused:
        actions.ask_department(
            ticket,
            actor=agent,
            department=department,
            question="Ist das Modell X defekt?",
            shared_mentions=[clean, private],
        )

    assert refused.value.field == "shared_mentions"
    assert f"#{private.pk}" in str(refused.value)
    assert "Fachabteilung" in str(refused.value)
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    assert not DepartmentRequest.objects.filter(ticket=ticket).exists()

    actions.ask_department(
        ticket, actor=agent, department=department, question="Defekt?", shared_mentions=[clean]
    )
    assert list(DepartmentRequest.objects.get(ticket=ticket).shared_mentions.all()) == [clean]


def _found(client: Client, query: str) -> set[int]:
    response = client.get(reverse("tickets:search"), {"q": query})
    assert response.status_code == 200
    return {ticket.pk for ticket in response.context["tickets"]}


def test_draft_rejected_for_personal_data_is_not_found_by_search(
    client: Client, agent: Any, other_agent: Any
) -> None:
    leaky = pending(agent, "Hallo, Ihre Kundennummer 7654321 zur Stornierung.")
    plain = pending(agent, "Hallo, die Stornierung ist erledigt.")
    actions.reject_reply(leaky, actor=other_agent, comment="Kundennummer raus")
    actions.reject_reply(plain, actor=other_agent, comment="Bitte freundlicher")
    leaky.refresh_from_db()
    plain.refresh_from_db()
    assert (leaky.rejected_for_personal_data, plain.rejected_for_personal_data) == (True, False)
    client.force_login(agent)

    assert _found(client, "Stornierung") == {plain.ticket_id}

    # Once the author removes the personal data, the draft is searchable again.
    actions.edit_reply(leaky, actor=agent, text="Hallo, Ihre Stornierung ist vorgemerkt.")
    leaky.refresh_from_db()
    assert leaky.rejected_for_personal_data is False
    assert _found(client, "Stornierung") == {plain.ticket_id, leaky.ticket_id}
