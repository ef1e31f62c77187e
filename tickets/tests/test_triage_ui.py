"""The triage suggestion in the inbox and on the ticket page (issue 13 §4): badges, reasons,
filters, sorts, one-click corrections recorded as labels, one-key acceptance forms."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets.choices import DismissReason, TicketState
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory
from triage.models import Label, Suggestion

pytestmark = pytest.mark.django_db


def suggest(ticket: Ticket, **fields: Any) -> Suggestion:
    """A suggestion for the ticket's first customer mention."""
    values: dict[str, Any] = {
        "relevant": True,
        "route": "cm",
        "department": "",
        "needs_private_data": False,
        "tonality": "neutral",
        "abusive": False,
        "fake_review": {"suspect": False, "score": 0.0, "reasons": []},
        "language": "de",
        "confidence": {"route": 0.5, "tonality": 0.5},
        "reasons": [],
        "model": "rules-v1",
        "created_at": timezone.now(),
    }
    values.update(fields)
    return Suggestion.objects.create(mention=ticket.mentions.get(), **values)


def _rows(response: Any) -> list[int]:
    """Ticket numbers of the inbox rows, in order."""
    return [ticket.pk for ticket in response.context["tickets"]]


def test_every_row_shows_badges_and_reasons(client: Any, cm: Any) -> None:
    ticket = TicketFactory(preview="Meine Kundennummer 1234567")
    suggest(
        ticket,
        route="support",
        department="billing",
        needs_private_data=True,
        tonality="negative",
        abusive=True,
        fake_review={"suspect": True, "score": 0.8, "reasons": ["generic name"]},
        confidence={"route": 0.87},
        reasons=["customer number in public: Kundennummer 1234567"],
    )
    pending = TicketFactory(preview="Noch ohne Vorschlag")
    client.force_login(cm)

    html = client.get(reverse("tickets:inbox")).content.decode()

    row = html.split(f'id="ticket-row-{ticket.pk}"')[1].split("</tr>")[0]
    assert "triage-route route-support" in row and "87 %" in row
    assert "triage-department" in row and "billing" in row
    assert "triage-tone tone-negative" in row
    assert "triage-private" in row and "triage-abusive" in row and "triage-fake" in row
    assert '<details class="triage-reasons">' in row
    assert "customer number in public: Kundennummer 1234567" in row
    assert "Fake review: generic name" in row
    assert "Correct suggestion" in row
    other = html.split(f'id="ticket-row-{pending.pk}"')[1].split("</tr>")[0]
    assert "triage-pending" in other


def test_filters_by_suggested_route_tonality_and_abuse(client: Any, cm: Any) -> None:
    support = TicketFactory()
    suggest(support, route="support", tonality="negative")
    calm = TicketFactory()
    suggest(calm, route="cm", tonality="neutral")
    rude = TicketFactory()
    suggest(rude, route="none", tonality="negative", abusive=True)
    TicketFactory()  # no suggestion yet: only in the unfiltered list
    client.force_login(cm)
    inbox = reverse("tickets:inbox")

    assert _rows(client.get(inbox, {"route": "support"})) == [support.pk]
    assert set(_rows(client.get(inbox, {"tonality": "negative"}))) == {support.pk, rude.pk}
    assert _rows(client.get(inbox, {"abusive": "yes"})) == [rude.pk]
    assert _rows(client.get(inbox, {"abusive": "no", "tonality": "neutral"})) == [calm.pk]
    assert len(_rows(client.get(inbox))) == 4


@pytest.mark.parametrize(
    "params", [{"route": "maybe"}, {"tonality": "angry"}, {"abusive": "1"}, {"sort": "random"}]
)
def test_unknown_filter_values_answer_400(client: Any, cm: Any, params: dict) -> None:
    client.force_login(cm)

    response = client.get(reverse("tickets:inbox"), params)

    assert response.status_code == 400


def test_sorts_put_support_cases_or_negative_tone_first_then_sla_order(
    client: Any, cm: Any
) -> None:
    now = timezone.now()
    first_due = TicketFactory()
    second_due = TicketFactory()
    third_due = TicketFactory()
    for number, ticket in enumerate((first_due, second_due, third_due)):
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_due_at=now + timezone.timedelta(hours=number + 1)
        )
    suggest(first_due, route="cm", tonality="neutral")
    suggest(second_due, route="none", tonality="negative")
    suggest(third_due, route="support", tonality="neutral")
    client.force_login(cm)
    inbox = reverse("tickets:inbox")

    assert _rows(client.get(inbox)) == [first_due.pk, second_due.pk, third_due.pk]
    assert _rows(client.get(inbox, {"sort": "support_first"})) == [
        third_due.pk,
        first_due.pk,
        second_due.pk,
    ]
    assert _rows(client.get(inbox, {"sort": "negative_first"})) == [
        second_due.pk,
        first_due.pk,
        third_due.pk,
    ]


def test_accept_forms_go_through_the_existing_transitions(client: Any, cm: Any) -> None:
    support = TicketFactory()
    suggest(support, route="support", department="billing")
    irrelevant = TicketFactory()
    suggest(irrelevant, route="none", relevant=False)
    answer = TicketFactory()
    suggest(answer, route="cm")
    client.force_login(cm)

    html = client.get(reverse("tickets:inbox")).content.decode()

    def accept(ticket: Ticket) -> str:
        row = html.split(f'id="ticket-row-{ticket.pk}"')[1].split("</tr>")[0]
        return (
            row.split('data-action="accept-suggestion"')[0].rsplit("<", 1)[1]
            + row.split('data-action="accept-suggestion"')[1].split("</form>")[0]
        )

    assert reverse("tickets:ticket_transition", args=[support.pk, "assign_to_support"]) in accept(
        support
    )
    assert "department: billing" in accept(support)
    dismiss = accept(irrelevant)
    assert reverse("tickets:ticket_transition", args=[irrelevant.pk, "dismiss"]) in dismiss
    assert 'name="dismiss_reason" value="not_relevant"' in dismiss
    assert reverse("tickets:ticket_detail", args=[answer.pk]) + "#composer" in accept(answer)

    # what the form posts: the transition records the desk's labels
    client.post(
        reverse("tickets:ticket_transition", args=[irrelevant.pk, "dismiss"]),
        {
            "expected_state": "new",
            "dismiss_reason": DismissReason.NOT_RELEVANT,
            "next": reverse("tickets:inbox"),
        },
    )
    irrelevant.refresh_from_db()
    assert irrelevant.state == TicketState.DISMISSED
    assert dict(
        Label.objects.filter(mention__ticket=irrelevant, source="dismiss").values_list(
            "head", "value"
        )
    ) == {"relevant": "false", "route": "none"}


@pytest.mark.parametrize("persona", ["cm", "agent", "team_lead"])
def test_correction_records_labels(client: Any, persona: str, request: Any) -> None:
    user = request.getfixturevalue(persona)
    ticket = TicketFactory()
    suggestion = suggest(ticket, route="cm", tonality="neutral")
    client.force_login(user)
    url = reverse("tickets:triage_correct", args=[suggestion.mention_id])

    response = client.post(url, {"route": "support", "next": reverse("tickets:inbox")})
    client.post(url, {"tonality": "negative"})
    client.post(url, {"abusive": "yes"})

    assert response.status_code == 302 and response["Location"] == reverse("tickets:inbox")
    labels = Label.objects.filter(mention_id=suggestion.mention_id, source="correction")
    assert {(label.head, label.value, label.actor_id) for label in labels} == {
        ("route", "support", user.pk),
        ("tonality", "negative", user.pk),
        ("abusive", "true", user.pk),
    }


def test_correction_of_the_department(client: Any, cm: Any, department: Any) -> None:
    ticket = TicketFactory()
    suggestion = suggest(ticket, route="support")
    client.force_login(cm)

    client.post(
        reverse("tickets:triage_correct", args=[suggestion.mention_id]),
        {"department": department.slug},
    )

    assert Label.objects.get(mention_id=suggestion.mention_id).value == department.slug


@pytest.mark.parametrize(
    ("persona", "status"),
    # a department expert sees no desk page but the department's (DESIGN §1: 404)
    [("expert", 404), ("privacy_officer", 403)],
)
def test_other_roles_may_not_correct(client: Any, persona: str, status: int, request: Any) -> None:
    ticket = TicketFactory()
    suggestion = suggest(ticket)
    client.force_login(request.getfixturevalue(persona))

    response = client.post(
        reverse("tickets:triage_correct", args=[suggestion.mention_id]), {"route": "support"}
    )

    assert response.status_code == status
    assert not Label.objects.exists()


@pytest.mark.parametrize(
    "data", [{}, {"route": "maybe"}, {"abusive": "perhaps"}, {"department": "no-such"}]
)
def test_bad_correction_answers_400_and_records_nothing(client: Any, cm: Any, data: dict) -> None:
    ticket = TicketFactory()
    suggestion = suggest(ticket)
    client.force_login(cm)

    response = client.post(reverse("tickets:triage_correct", args=[suggestion.mention_id]), data)

    assert response.status_code == 400
    assert not Label.objects.exists()


def test_correction_of_an_unknown_mention_is_404(client: Any, cm: Any) -> None:
    client.force_login(cm)

    response = client.post(reverse("tickets:triage_correct", args=[999999]), {"route": "cm"})

    assert response.status_code == 404


def test_ticket_page_shows_the_suggestion_and_its_reasons(client: Any, agent: Any) -> None:
    ticket = TicketFactory()
    suggest(ticket, route="support", tonality="negative", reasons=["Wort 'kaputt': negativ"])
    client.force_login(agent)

    html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()

    section = html.split('id="triage-suggestion"')[1].split("</section>")[0]
    assert "tone-negative" in section and "route-support" in section
    assert "Wort &#x27;kaputt&#x27;: negativ" in section
    assert "Correct suggestion" in section
    assert "accept-suggestion" not in section  # accepting is the inbox's


def test_the_poll_keeps_the_suggestion_filters(client: Any, cm: Any) -> None:
    before = (timezone.now() - timezone.timedelta(minutes=1)).isoformat()
    support = TicketFactory()
    suggest(support, route="support")
    calm = TicketFactory()
    suggest(calm, route="cm")
    client.force_login(cm)
    poll = reverse("tickets:inbox_poll")

    filtered = client.get(poll, {"since": before, "route": "support"})
    everything = client.get(poll, {"since": before})

    assert [t.pk for t in filtered.context["tickets"]] == [support.pk]
    assert {t.pk for t in everything.context["tickets"]} == {support.pk, calm.pk}
    assert "route-support" in filtered.content.decode()
    assert client.get(poll, {"since": before, "route": "maybe"}).status_code == 400
