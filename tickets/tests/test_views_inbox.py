"""The CM inbox: triage through the forms, live polling, query budget, escaping."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets.choices import DismissReason, TicketState
from tickets.models import Ticket, TicketLink
from tickets.tests.factories import MentionFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _post_transition(client: Any, ticket: Ticket, name: str, **data: Any) -> Any:
    return client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, name]),
        {"expected_state": ticket.state, "next": reverse("tickets:inbox"), **data},
        follow=True,
    )


def test_inbox_lists_new_tickets_only(client: Any, cm: Any) -> None:
    shown = TicketFactory(preview="Paket fehlt")
    TicketFactory(preview="Schon erledigt", no_service_case=False)
    Ticket.objects.exclude(pk=shown.pk).update(state=TicketState.SUPPORT)
    client.force_login(cm)

    response = client.get(reverse("tickets:inbox"))

    assert b"Paket fehlt" in response.content
    assert b"Schon erledigt" not in response.content


def test_cm_assigns_ticket_to_support_from_the_inbox(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    response = _post_transition(client, ticket, "assign_to_support")

    ticket.refresh_from_db()
    assert ticket.state == TicketState.SUPPORT
    assert response.redirect_chain[-1][0] == reverse("tickets:inbox")


def test_cm_dismisses_ticket_with_a_reason(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    _post_transition(client, ticket, "dismiss", dismiss_reason=DismissReason.NOT_RELEVANT)

    ticket.refresh_from_db()
    assert (ticket.state, ticket.dismiss_reason) == (TicketState.DISMISSED, "not_relevant")


def test_dismiss_as_duplicate_links_the_original(client: Any, cm: Any) -> None:
    original, ticket = TicketFactory(), TicketFactory()
    client.force_login(cm)

    _post_transition(
        client, ticket, "dismiss", dismiss_reason=DismissReason.DUPLICATE, duplicate_of=original.pk
    )

    assert TicketLink.objects.filter(from_ticket=ticket, to_ticket=original).exists()


def test_dismiss_as_duplicate_without_original_shows_error_and_changes_nothing(
    client: Any, cm: Any
) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    response = _post_transition(client, ticket, "dismiss", dismiss_reason=DismissReason.DUPLICATE)

    ticket.refresh_from_db()
    assert ticket.state == TicketState.NEW
    assert b"Name the original ticket" in response.content


def test_dismiss_with_unknown_reason_is_refused_without_change(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    response = client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "dismiss"]),
        {"expected_state": "new", "dismiss_reason": "bogus"},
    )

    ticket.refresh_from_db()
    assert response.status_code == 400
    assert ticket.state == TicketState.NEW


def test_bulk_dismiss_marks_all_checked_tickets_as_spam(client: Any, cm: Any) -> None:
    spam = [TicketFactory() for _ in range(3)]
    kept = TicketFactory()
    client.force_login(cm)

    client.post(
        reverse("tickets:inbox_bulk_dismiss"),
        {"tickets": [ticket.pk for ticket in spam], "reason": DismissReason.SPAM},
    )

    states = dict(Ticket.objects.values_list("pk", "state"))
    assert all(states[ticket.pk] == TicketState.DISMISSED for ticket in spam)
    assert states[kept.pk] == TicketState.NEW


def test_bulk_dismiss_reports_tickets_that_moved_meanwhile(client: Any, cm: Any) -> None:
    moved = TicketFactory()
    Ticket.objects.filter(pk=moved.pk).update(state=TicketState.SUPPORT)
    client.force_login(cm)

    response = client.post(
        reverse("tickets:inbox_bulk_dismiss"),
        {"tickets": [moved.pk], "reason": DismissReason.SPAM},
        follow=True,
    )

    assert f"Ticket #{moved.pk}:".encode() in response.content
    assert Ticket.objects.get(pk=moved.pk).state == TicketState.SUPPORT


def test_cm_marks_no_service_case(client: Any, cm: Any) -> None:
    ticket = TicketFactory()
    client.force_login(cm)

    client.post(
        reverse("tickets:ticket_no_service_case", args=[ticket.pk]),
        {"expected_state": "new", "next": reverse("tickets:inbox")},
    )

    ticket.refresh_from_db()
    assert ticket.no_service_case is True


def test_poll_returns_tickets_changed_since_the_last_poll(client: Any, cm: Any) -> None:
    since = timezone.now()
    TicketFactory(preview="Alt", updated_at=since - timedelta(minutes=5))
    TicketFactory(preview="Ganz neu", updated_at=since + timedelta(seconds=1))
    client.force_login(cm)

    response = client.get(reverse("tickets:inbox_poll"), {"since": since.isoformat()})

    assert b"Ganz neu" in response.content
    assert b"Alt<" not in response.content
    assert b"data-since=" in response.content


def test_poll_with_garbage_since_answers_400_not_500(client: Any, cm: Any) -> None:
    client.force_login(cm)

    response = client.get(reverse("tickets:inbox_poll"), {"since": "<not a date>"})

    assert response.status_code == 400
    assert "ISO 8601" in response.content.decode()


def test_poll_without_since_answers_from_now(client: Any, cm: Any) -> None:
    client.force_login(cm)

    assert client.get(reverse("tickets:inbox_poll")).status_code == 200


def test_inbox_needs_the_same_queries_for_5_and_50_tickets(
    client: Any, cm: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        TicketFactory()
    client.force_login(cm)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("tickets:inbox"))
    for _ in range(45):
        TicketFactory()

    with django_assert_max_num_queries(len(five)):
        response = client.get(reverse("tickets:inbox"))

    assert response.status_code == 200


def test_inbox_escapes_and_isolates_author_name_and_text(client: Any, cm: Any) -> None:
    ticket = TicketFactory(preview="<script>alert(1)</script>", mention=False)
    MentionFactory(
        ticket=ticket,
        channel=ticket.channel,
        customer=ticket.customer,
        author_display_name="<script>evil()</script>",
    )
    client.force_login(cm)

    response = client.get(reverse("tickets:inbox"))

    assert b"<script>alert(1)" not in response.content
    assert b"<script>evil()" not in response.content
    assert b'<bdi class="author-name">&lt;script&gt;evil()&lt;/script&gt;</bdi>' in response.content


def test_inbox_page_size_is_chosen_validated_and_remembered(client: Any, cm: Any) -> None:
    # given 60 new tickets
    for _ in range(60):
        TicketFactory()
    client.force_login(cm)

    # when the CM picks 50 per page, then comes back without the parameter
    chosen = client.get(reverse("tickets:inbox"), {"per_page": "50"})
    again = client.get(reverse("tickets:inbox"))
    refused = client.get(reverse("tickets:inbox"), {"per_page": "1000"})
    after_refusal = client.get(reverse("tickets:inbox"))

    # then both pages hold 50 rows; an offer not on the list is a 400 that changes nothing
    assert len(chosen.context["tickets"]) == 50
    assert len(again.context["tickets"]) == 50
    assert b'<option value="50" selected>' in again.content
    assert refused.status_code == 400
    assert b"25, 50, 100" in refused.content
    assert len(after_refusal.context["tickets"]) == 50


def test_inbox_page_size_is_25_by_default_and_per_list(client: Any, cm: Any) -> None:
    for _ in range(30):
        TicketFactory()
    client.force_login(cm)

    client.get(reverse("tickets:queue"), {"per_page": "100"})  # another list's choice
    response = client.get(reverse("tickets:inbox"))

    assert len(response.context["tickets"]) == 25
