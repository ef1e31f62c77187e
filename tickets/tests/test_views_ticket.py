"""The ticket view: replies through the composer, stale forms, notes, presence, escaping."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from guidelines.models import ReplyTemplate
from tickets import actions, presence
from tickets.choices import ReplyKind, ReplyStatus, TicketState
from tickets.models import Reply, TicketNote
from tickets.tests.factories import MentionFactory, TicketFactory
from tickets.tests.helpers import force_state
from tickets.views.ticket import ticket_version

pytestmark = pytest.mark.django_db


def _reply_data(ticket: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": ReplyKind.ANSWER,
        "visibility": "public",
        "in_reply_to_mention": ticket.mentions.first().pk,
        "text": "Hallo Erika, wir schauen nach.",
        "version": ticket_version(ticket),
        **overrides,
    }


def test_public_reply_sent_from_the_composer_waits_for_approval(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    client.post(reverse("tickets:reply_create", args=[ticket.pk]), _reply_data(ticket, submit="on"))

    reply = Reply.objects.get(ticket=ticket)
    assert (reply.status, reply.author) == (ReplyStatus.PENDING_REVIEW, agent)


def test_private_reply_is_approved_at_once(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    client.post(
        reverse("tickets:reply_create", args=[ticket.pk]),
        _reply_data(ticket, visibility="private", submit="on"),
    )

    assert Reply.objects.get(ticket=ticket).status == ReplyStatus.APPROVED


def test_reply_saved_without_submit_stays_a_draft(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    client.post(reverse("tickets:reply_create", args=[ticket.pk]), _reply_data(ticket))

    assert Reply.objects.get(ticket=ticket).status == ReplyStatus.DRAFT


def test_empty_reply_is_refused_without_a_500(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:reply_create", args=[ticket.pk]), _reply_data(ticket, text="")
    )

    assert response.status_code == 400
    assert not Reply.objects.filter(ticket=ticket).exists()


def test_reply_to_a_ticket_changed_since_opening_warns_before_sending(
    client: Any, agent: Any, other_agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    opened = _reply_data(ticket, submit="on")
    actions.add_note(ticket, actor=other_agent, text="Kunde hat angerufen")
    client.force_login(agent)

    response = client.post(reverse("tickets:reply_create", args=[ticket.pk]), opened)

    assert response.status_code == 409
    assert b"changed since you opened it" in response.content
    assert b'name="confirm_changed"' in response.content
    assert not Reply.objects.filter(ticket=ticket).exists()


def test_reply_confirmed_after_the_change_warning_is_sent(
    client: Any, agent: Any, other_agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    opened = _reply_data(ticket, submit="on", confirm_changed="on")
    actions.add_note(ticket, actor=other_agent, text="Kunde hat angerufen")
    client.force_login(agent)

    client.post(reverse("tickets:reply_create", args=[ticket.pk]), opened)

    assert Reply.objects.get(ticket=ticket).status == ReplyStatus.PENDING_REVIEW


def test_stale_transition_form_gets_a_conflict_message(client: Any, agent: Any) -> None:
    # the agent opened the ticket in `support`; a colleague took it meanwhile
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_transition", args=[ticket.pk, "take"]),
        {"expected_state": "support"},
    )

    assert response.status_code == 409
    assert b"Someone else changed this ticket" in response.content


def test_rejected_reply_shows_the_comment_and_is_editable_by_its_author(
    client: Any, agent: Any, other_agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = actions.create_reply(
        ticket, actor=agent, text="Erster Entwurf", visibility="public", kind="answer", submit=True
    )
    actions.reject_reply(reply, actor=other_agent, comment="Bitte mit Namen ansprechen")
    client.force_login(agent)

    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content
    client.post(
        reverse("tickets:reply_edit", args=[reply.pk]), {"text": "Hallo Erika!", "submit": "on"}
    )

    assert b"Bitte mit Namen ansprechen" in page
    reply.refresh_from_db()
    assert (reply.text, reply.status) == ("Hallo Erika!", ReplyStatus.PENDING_REVIEW)


def test_only_the_author_edits_a_rejected_reply(client: Any, agent: Any, other_agent: Any):
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = actions.create_reply(
        ticket, actor=agent, text="Entwurf", visibility="public", kind="answer"
    )
    client.force_login(other_agent)

    response = client.post(reverse("tickets:reply_edit", args=[reply.pk]), {"text": "Fremd"})

    reply.refresh_from_db()
    assert response.status_code == 403
    assert reply.text == "Entwurf"


def test_template_is_filled_for_the_ticket(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    template = ReplyTemplate.objects.create(
        key="test-holding", language="de", name="Zwischen", kind="holding",
        text="Hallo {name}, wir melden uns. {agent}",
    )  # fmt: skip
    client.force_login(agent)

    response = client.get(
        reverse("tickets:reply_template", args=[ticket.pk]), {"template": template.pk}
    )

    assert b"Hallo Erika, wir melden uns. Anton" in response.content


def test_live_guideline_check_warns_about_personal_data(client: Any, agent: Any) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)

    response = client.post(
        reverse("tickets:reply_check", args=[ticket.pk]),
        {
            "text": "Hallo Erika, deine IBAN DE89370400440532013000 ist vermerkt.",
            "visibility": "public",
        },
    )

    assert b"finding-strong" in response.content


def test_note_is_added_through_the_form(client: Any, agent: Any) -> None:
    ticket = TicketFactory()
    client.force_login(agent)

    client.post(reverse("tickets:ticket_add_note", args=[ticket.pk]), {"text": "Rückruf erbeten"})

    assert TicketNote.objects.get(ticket=ticket).text == "Rückruf erbeten"


def test_presence_ping_shows_a_colleague_typing(client: Any, agent: Any, other_agent: Any):
    ticket = TicketFactory()
    presence.record_presence(ticket.pk, other_agent, is_typing=True, now=timezone.now())
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_presence", args=[ticket.pk]),
        {"typing": "0", "version": ticket_version(ticket)},
    )

    assert b"Olga" in response.content
    assert b"is typing" in response.content


def test_presence_ping_warns_when_the_ticket_changed(client: Any, agent: Any, cm: Any) -> None:
    ticket = TicketFactory()
    opened_version = ticket_version(ticket)
    actions.add_note(ticket, actor=cm, text="neu")
    client.force_login(agent)

    response = client.post(
        reverse("tickets:ticket_presence", args=[ticket.pk]),
        {"typing": "0", "version": opened_version},
    )

    assert b"changed since you opened it" in response.content


def test_ticket_page_escapes_user_text(client: Any, agent: Any) -> None:
    ticket = TicketFactory(mention=False)
    MentionFactory(
        ticket=ticket,
        channel=ticket.channel,
        customer=ticket.customer,
        author_display_name="<script>x()</script>",
        text="<img src=x onerror=alert(1)>",
    )
    client.force_login(agent)

    content = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content

    assert b"<script>x()" not in content
    assert b"<img src=x" not in content
    assert b"&lt;img src=x onerror=alert(1)&gt;" in content
