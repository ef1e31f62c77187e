"""build_reply_context: what the checks know, read from the database."""

from typing import Any

import pytest
from django.utils import translation
from tickets.reply_context import build_reply_context

from guidelines.checks import RULE_PERSONAL_DATA, RULE_TEMPLATE_UNCHANGED, check_reply
from guidelines.models import ReplyTemplate
from monitoring.choices import Platform
from tickets.tests.factories import ChannelFactory, TicketFactory

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
