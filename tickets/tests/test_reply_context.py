"""build_reply_context: what the checks know, read from the database."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from guidelines.checks import RULE_PERSONAL_DATA, RULE_TEMPLATE_UNCHANGED, check_reply
from guidelines.models import ReplyTemplate
from monitoring.choices import Platform
from servicedesk.tests.apiclient import client_for
from tickets.reply_context import answered_mention, build_reply_context, render_template_text
from tickets.tests.factories import ChannelFactory, MentionFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_context_reads_mention_customer_platform_limit_and_patterns() -> None:
    ticket = TicketFactory(channel=ChannelFactory(slug="x-account", platform=Platform.TWITTER))
    mention = ticket.mentions.get()

    with translation.override("en"):
        context = build_reply_context(ticket, visibility="public")

    assert context.platform == Platform.TWITTER
    assert context.length_limit == 280
    assert context.language == "en"
    assert (context.customer_name, context.customer_handle) == (
        mention.author_display_name,
        mention.author_handle,
    )
    assert context.mention_text == mention.text
    assert dict(context.personal_data_patterns)["Bestellnummer / order number"]


def test_private_replies_have_no_length_limit() -> None:
    ticket = TicketFactory(channel=ChannelFactory(slug="x-dm", platform=Platform.TWITTER))

    assert build_reply_context(ticket, visibility="private").length_limit is None


def test_unchanged_template_is_recognised_after_filling(agent: Any) -> None:
    ticket = TicketFactory()
    template = ReplyTemplate.objects.get(key="holding", language="de")
    context = build_reply_context(ticket, visibility="public", template=template, actor=agent)

    findings = check_reply(context.template_text or "", context)

    assert "Erika" in (context.template_text or "")
    assert RULE_TEMPLATE_UNCHANGED in [finding.rule for finding in findings]


def test_default_order_number_pattern_fires_in_public() -> None:
    context = build_reply_context(TicketFactory(), visibility="public")

    findings = check_reply("Hallo Erika, Bestellung PB1234567890DE ist da.", context)

    assert [finding.rule for finding in findings] == [RULE_PERSONAL_DATA]


# ---------------------------------------------------------------- the mention a reply answers


def _thread_with_a_bystander() -> tuple[Any, Any, Any]:
    """A ticket of Erika's whose thread has a later post by another person (Bernd)."""
    ticket = TicketFactory()
    erika = ticket.mentions.get()
    bernd = MentionFactory(
        ticket=ticket,
        channel=ticket.channel,
        author_display_name="Bernd Beispiel",
        text="Bei mir auch!",
        created_at=erika.created_at + timedelta(seconds=5),
    )
    return ticket, erika, bernd


def test_by_default_a_reply_answers_the_newest_mention_of_the_tickets_customer() -> None:
    ticket, erika, _bernd = _thread_with_a_bystander()

    assert answered_mention(ticket) == erika


def test_a_filled_template_names_the_author_of_the_mention_it_answers(agent: Any) -> None:
    ticket, erika, bernd = _thread_with_a_bystander()
    template = ReplyTemplate(text="Hallo {name} ({handle}), danke!")

    to_bernd = render_template_text(template, ticket=ticket, actor=agent, mention=bernd)
    to_erika = render_template_text(template, ticket=ticket, actor=agent)

    assert to_bernd == f"Hallo Bernd ({bernd.author_handle}), danke!"
    assert to_erika == f"Hallo Erika ({erika.author_handle}), danke!"


def test_a_template_reply_through_the_api_names_the_person_it_answers(agent: Any) -> None:
    ticket, _erika, bernd = _thread_with_a_bystander()
    template = ReplyTemplate.objects.create(
        key="thanks-test", language="de", name="Danke", kind="answer", text="Danke, {name}!"
    )

    response = client_for(agent).post(
        f"/api/v1/tickets/{ticket.pk}/replies/",
        {
            "visibility": "public",
            "kind": "answer",
            "template": template.pk,
            "in_reply_to_mention": bernd.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert (response.json()["text"], response.json()["in_reply_to_mention"]) == (
        "Danke, Bernd!",
        bernd.pk,
    )


def test_the_checks_judge_a_reply_against_the_mention_it_answers() -> None:
    ticket, _erika, bernd = _thread_with_a_bystander()

    context = build_reply_context(ticket, visibility="public", mention=bernd)

    assert (context.customer_name, context.mention_text) == ("Bernd Beispiel", "Bei mir auch!")
