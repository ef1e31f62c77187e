"""The search page: PostgreSQL full text in German and English over mentions, replies and
notes, customers and handles by prefix, filters, escaped highlighting, access, indexes."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.models import SocialIdentity
from monitoring.models import Mention
from tickets.models import TicketNote
from tickets.tests.factories import (
    ChannelFactory,
    CustomerFactory,
    MentionFactory,
    ReplyFactory,
    SocialIdentityFactory,
    TicketFactory,
)
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db

URL = reverse("tickets:search")


def ticket_with_text(text: str, **ticket_fields: Any) -> Any:
    ticket = TicketFactory(mention=False, preview=text[:100], **ticket_fields)
    MentionFactory(ticket=ticket, channel=ticket.channel, customer=ticket.customer, text=text)
    return ticket


def found_ticket_ids(client: Client, **params: str) -> set[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return {ticket.pk for ticket in response.context["tickets"]}


@pytest.fixture
def agent_client(client: Client, agent: Any) -> Client:
    client.force_login(agent)
    return client


def test_german_stemming_finds_singular_for_plural(agent_client: Client) -> None:
    parcel = ticket_with_text("Mein Paket ist leider nicht angekommen.")
    ticket_with_text("Die Rechnung ist falsch.")

    assert found_ticket_ids(agent_client, q="Pakete") == {parcel.pk}


def test_english_stemming_finds_singular_for_plural(agent_client: Client) -> None:
    parcel = ticket_with_text("My parcel never arrived, what now?")
    ticket_with_text("The invoice is wrong.")

    assert found_ticket_ids(agent_client, q="parcels") == {parcel.pk}


def test_replies_and_internal_notes_are_searched(agent_client: Client, agent: Any) -> None:
    with_reply = ticket_with_text("Hallo?")
    ReplyFactory(ticket=with_reply, author=agent, text="Wir haben die Sendung storniert.")
    with_note = ticket_with_text("Hallo!")
    TicketNote.objects.create(
        ticket=with_note, author=agent, text="Sendung storniert laut Lager.", created_at=_at(1)
    )
    ticket_with_text("Nichts davon.")

    assert found_ticket_ids(agent_client, q="stornierte Sendungen") == {
        with_reply.pk,
        with_note.pk,
    }


def test_handle_prefix_finds_ticket_and_customer(agent_client: Client) -> None:
    customer = CustomerFactory(display_name="Erika Mustermann")
    SocialIdentityFactory(customer=customer, handle="erika_mm", platform="twitter")
    ticket = TicketFactory(customer=customer)
    ticket_with_text("jemand anderes")

    response = agent_client.get(URL, {"q": "@ERIKA"})

    assert {found.pk for found in response.context["tickets"]} == {ticket.pk}
    assert [found.pk for found in response.context["customers"]] == [customer.pk]


def test_customer_name_is_searched(agent_client: Client) -> None:
    customer = CustomerFactory(display_name="Johannes Beispielmann")

    response = agent_client.get(URL, {"q": "Beispielmann"})

    assert [found.pk for found in response.context["customers"]] == [customer.pk]


def test_state_filter(agent_client: Client, agent: Any) -> None:
    new = ticket_with_text("Paket fehlt")
    in_progress = force_state(ticket_with_text("Paket fehlt"), "in_progress", assignee=agent)

    assert found_ticket_ids(agent_client, q="Paket", state="in_progress") == {in_progress.pk}
    assert found_ticket_ids(agent_client, q="Paket", state="new") == {new.pk}


def test_channel_filter(agent_client: Client) -> None:
    facebook = ChannelFactory(slug="facebook-page", platform="facebook")
    on_facebook = ticket_with_text("Paket fehlt", channel=facebook)
    ticket_with_text("Paket fehlt")

    assert found_ticket_ids(agent_client, q="Paket", channel="facebook-page") == {on_facebook.pk}


def test_date_range_filter_on_opening_day_in_desk_time(agent_client: Client) -> None:
    # 23:30 UTC on 1 March is already 2 March in Berlin
    late = ticket_with_text("Paket fehlt", opened_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    ticket_with_text("Paket fehlt", opened_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    ticket_with_text("Paket fehlt", opened_at=datetime(2025, 3, 3, 12, 0, tzinfo=UTC))

    found = found_ticket_ids(
        agent_client, q="Paket", opened_from="2025-03-02", opened_to="2025-03-02"
    )

    assert found == {late.pk}


def test_highlight_marks_matches_and_escapes_user_html(agent_client: Client) -> None:
    # ts_headline drops complete tags itself; an unclosed one reaches the page as text
    ticket_with_text('Mein Paket <img src=x onerror=alert(1) & "fehlt"')

    response = agent_client.get(URL, {"q": "Paket"})

    html = response.content.decode()
    assert "<mark>Paket</mark>" in html
    assert "&lt;img src=x onerror=alert(1) &amp; &quot;fehlt" in html
    assert "<img src=x" not in html


def test_bad_input_answers_with_form_errors_not_500(agent_client: Client) -> None:
    response = agent_client.get(
        URL, {"q": "x" * 500, "opened_from": "kein Datum", "state": "unknown"}
    )

    assert response.status_code == 400  # the page, with the form's errors (issue 18)
    assert response.context["searched"] is False
    assert set(response.context["form"].errors) == {"q", "opened_from", "state"}


def test_pages_use_a_constant_number_of_queries(
    agent_client: Client, agent: Any, django_assert_max_num_queries: Any
) -> None:
    for number in range(30):
        ticket = ticket_with_text(f"Paket Nummer {number} fehlt")
        ReplyFactory(ticket=ticket, author=agent, text="Paket ist unterwegs")

    # 14, plus the access audit's one INSERT of the customers shown (issue 15)
    with django_assert_max_num_queries(15):
        response = agent_client.get(URL, {"q": "Paket"})

    assert len(response.context["tickets"]) == 20
    assert all(ticket.snippets for ticket in response.context["tickets"])


def test_expert_gets_404(client: Client, expert: Any) -> None:
    ticket_with_text("Paket fehlt")
    client.force_login(expert)

    assert client.get(URL, {"q": "Paket"}).status_code == 404


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(URL, {"q": "Paket"})

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_mention_search_uses_the_gin_index() -> None:
    # given a few thousand mentions, the planner must find the indexed expression
    channel = ChannelFactory()
    identity = SocialIdentityFactory(platform=channel.identity_platform)
    Mention.objects.bulk_create(
        Mention(
            channel=channel,
            external_id=f"bulk-{number}",
            identity=identity,
            author_handle=identity.handle,
            text=f"Alltäglicher Beitrag Nummer {number} über das Wetter",
            created_at=_at(0),
            received_at=_at(0),
        )
        for number in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE monitoring_mention")
    from tickets.views.search import matching, search_query

    queryset = matching(Mention.objects, "text", search_query("Pakete")).values("pk")

    plan = queryset.explain()
    assert "mention_text_search" in plan


def test_handle_prefix_uses_the_pattern_index() -> None:
    SocialIdentity.objects.bulk_create(
        SocialIdentity(
            customer=CustomerFactory(), platform="twitter", handle=f"user{n}", created_at=_at(0)
        )
        for n in range(50)
    )
    SocialIdentity.objects.bulk_create(
        SocialIdentity(customer_id=SocialIdentity.objects.first().customer_id, platform="x",
                       handle=f"nutzer{n}", created_at=_at(0))
        for n in range(3000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_socialidentity")

    plan = SocialIdentity.objects.filter(handle__startswith="user4").explain()

    assert "identity_handle_prefix" in plan


def _at(minute: int) -> datetime:
    return datetime(2025, 3, 3, 10, minute, tzinfo=UTC)
