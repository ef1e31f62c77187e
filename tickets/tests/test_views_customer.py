"""The customer page: identities, tickets (paginated), notes, consent, merge and undo."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from crm import actions
from crm.choices import ConsentPurpose, ConsentStatus
from crm.models import Customer, CustomerMerge
from tickets import actions as ticket_actions
from tickets.tests.factories import CustomerFactory, SocialIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


def page_url(customer: Customer) -> str:
    return reverse("tickets:customer_detail", args=[customer.pk])


@pytest.fixture
def agent_client(client: Client, agent: Any) -> Client:
    client.force_login(agent)
    return client


def test_page_shows_identities_tickets_notes_and_consent(agent_client: Client, agent: Any) -> None:
    customer = CustomerFactory(display_name="Erika <Mustermann>")
    SocialIdentityFactory(customer=customer, platform="mastodon", handle="erika_on_masto")
    ticket = TicketFactory(customer=customer)
    actions.add_customer_note(customer, actor=agent, text="Mag keine Anrufe")
    actions.record_consent(
        customer,
        purpose=ConsentPurpose.PRIVATE_CONTACT,
        status=ConsentStatus.GRANTED,
        source="DM",
        actor=agent,
    )

    response = agent_client.get(page_url(customer))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Erika &lt;Mustermann&gt;" in html
    assert "erika_on_masto" in html
    assert reverse("tickets:ticket_detail", args=[ticket.pk]) in html
    assert "Mag keine Anrufe" in html
    assert [consent.status for consent in response.context["current_consents"]] == ["granted"]


def test_ticket_list_is_paginated_with_constant_queries(
    agent_client: Client, django_assert_max_num_queries: Any
) -> None:
    customer = CustomerFactory()
    for _ in range(45):
        TicketFactory(customer=customer)

    # 16, plus the header's own presence status (issue 16) and the access audit's one
    # INSERT (issue 15)
    with django_assert_max_num_queries(18):
        response = agent_client.get(page_url(customer), {"page": 3})

    assert len(response.context["tickets"]) == 5
    assert response.context["page"].paginator.count == 45


def test_add_note_through_the_page(agent_client: Client) -> None:
    customer = CustomerFactory()

    response = agent_client.post(
        reverse("tickets:customer_add_note", args=[customer.pk]), {"text": "Stammkundin"}
    )

    assert response.status_code == 302
    assert list(customer.notes.values_list("text", flat=True)) == ["Stammkundin"]


def test_blank_note_is_refused_without_change(agent_client: Client) -> None:
    customer = CustomerFactory()

    response = agent_client.post(
        reverse("tickets:customer_add_note", args=[customer.pk]), {"text": ""}
    )

    assert response.status_code == 400
    assert not customer.notes.exists()


def test_record_consent_through_the_page(agent_client: Client) -> None:
    customer = CustomerFactory()

    agent_client.post(
        reverse("tickets:customer_consent", args=[customer.pk]),
        {"purpose": "marketing", "status": "withdrawn", "source": "Tweet"},
    )

    assert list(customer.consents.values_list("purpose", "status", "source")) == [
        ("marketing", "withdrawn", "Tweet")
    ]


def test_find_box_lists_other_customers_by_handle_prefix(agent_client: Client) -> None:
    customer = CustomerFactory()
    other = CustomerFactory(display_name="Erika M.")
    SocialIdentityFactory(customer=other, handle="erika_twitter")

    response = agent_client.get(page_url(customer), {"find": "@erika"})

    assert [candidate.pk for candidate in response.context["candidates"]] == [other.pk]


def test_agent_merges_another_customer_into_this_one(agent_client: Client) -> None:
    target, source = CustomerFactory(), CustomerFactory()
    ticket = TicketFactory(customer=source)

    response = agent_client.post(
        reverse("tickets:customer_merge", args=[target.pk]), {"source": source.pk}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    source.refresh_from_db()
    assert (ticket.customer_id, source.merged_into_id) == (target.pk, target.pk)


def test_cm_may_not_merge(client: Client, cm: Any) -> None:
    target, source = CustomerFactory(), CustomerFactory()
    client.force_login(cm)

    response = client.post(
        reverse("tickets:customer_merge", args=[target.pk]), {"source": source.pk}
    )

    assert response.status_code == 403
    assert not CustomerMerge.objects.exists()


def test_merge_into_itself_is_refused_on_the_page(agent_client: Client) -> None:
    customer = CustomerFactory()

    response = agent_client.post(
        reverse("tickets:customer_merge", args=[customer.pk]), {"source": customer.pk}
    )

    assert response.status_code == 400
    assert not CustomerMerge.objects.exists()


@pytest.mark.parametrize("source", ["", "abc", "999999"])
def test_merge_with_bad_input_is_refused(agent_client: Client, source: str) -> None:
    customer = CustomerFactory()

    response = agent_client.post(
        reverse("tickets:customer_merge", args=[customer.pk]), {"source": source}
    )

    assert response.status_code == 400
    assert not CustomerMerge.objects.exists()


def test_undo_through_the_page(agent_client: Client, agent: Any) -> None:
    target, source = CustomerFactory(), CustomerFactory()
    ticket = TicketFactory(customer=source)
    merge = ticket_actions.merge_customers(source, target, actor=agent)

    response = agent_client.post(reverse("tickets:merge_undo", args=[merge.pk]))

    assert response["Location"] == page_url(source)
    ticket.refresh_from_db()
    merge.refresh_from_db()
    assert ticket.customer_id == source.pk
    assert merge.undone_by_id == agent.pk


def test_merged_customer_page_points_to_the_target(agent_client: Client, agent: Any) -> None:
    target, source = CustomerFactory(), CustomerFactory()
    ticket_actions.merge_customers(source, target, actor=agent)

    response = agent_client.get(page_url(source))

    assert page_url(target) in response.content.decode()


def test_unknown_customer_is_404(agent_client: Client) -> None:
    assert agent_client.get("/customers/999999/").status_code == 404


@pytest.mark.parametrize("persona", ["expert", "api_client_user"])
def test_customer_page_is_404_for_non_staff(
    client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    customer = CustomerFactory()
    client.force_login(request.getfixturevalue(persona))

    assert client.get(page_url(customer)).status_code == 404
