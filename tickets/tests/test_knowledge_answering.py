"""The information centre while answering: suggestions for a mention (the right article first
on a labelled set; past answers of resolved cases), one-click insertion, and usage counting
through sent replies and resolved cases."""

from typing import Any

import pytest
from django.urls import reverse

from knowledge import actions as knowledge_actions
from knowledge.choices import InsertionMode
from knowledge.models import Article, ArticleUse
from monitoring.choices import Platform
from servicedesk.errors import InvalidArgument, InvalidTransition, NotAllowedForRole
from tickets import actions
from tickets.choices import ReplyKind, ReplyVisibility, TicketState
from tickets.models import Ticket
from tickets.suggestions import suggestions_for
from tickets.tests.factories import ChannelFactory
from tickets.tests.helpers import force_state
from tickets.tests.knowledge_data import (
    DEPARTMENTS,
    LABELLED_MENTIONS,
    resolved_case,
    ticket_with_mention,
    write_library,
)

pytestmark = pytest.mark.django_db

LOST_PARCEL = "@PaketBlitz Mein Paket ist verschwunden, Sendungsverfolgung zeigt nichts mehr."
PAST_ANSWER = (
    "Hallo Jana, das tut uns leid! Zeigt die Sendungsverfolgung drei Werktage nichts Neues, "
    "starten wir einen Nachforschungsauftrag für dein Paket. Schick uns bitte die "
    "Sendungsnummer per DM."
)


@pytest.fixture
def library(team_lead: Any) -> dict[str, Article]:
    return write_library(team_lead)


def test_suggestions_put_the_right_article_first_on_the_labelled_set(
    library: dict[str, Article],
) -> None:
    ranked = {}
    for text, _expected in LABELLED_MENTIONS:
        ticket = ticket_with_mention(text)
        suggestions = suggestions_for(ticket, ticket.mentions.get())
        ranked[text] = [item.article for item in suggestions.articles]

    wrong = {
        text: [article.title for article in articles]
        for (text, expected), articles in zip(LABELLED_MENTIONS, ranked.values(), strict=True)
        if not articles or articles[0] != library[expected]
    }
    assert wrong == {}


def test_suggestions_carry_a_score_the_matched_terms_and_a_passage(
    library: dict[str, Article],
) -> None:
    ticket = ticket_with_mention(LOST_PARCEL)

    first = suggestions_for(ticket, ticket.mentions.get()).articles[0]

    assert first.article == library["lost_parcel"]
    assert first.score > 0
    assert {"paket", "sendungsverfolgung"} <= set(first.matched_terms)
    assert first.passage.startswith("Zeigt die Sendungsverfolgung")


def test_one_language_version_per_article_is_offered(library: dict[str, Article]) -> None:
    ticket = ticket_with_mention("my parcel is lost, tracking has not changed")

    articles = [item.article for item in suggestions_for(ticket, ticket.mentions.get()).articles]

    assert library["lost_parcel_en"] in articles
    assert library["lost_parcel"] not in articles


def test_answers_of_resolved_cases_are_offered_but_not_open_ones(
    library: dict[str, Article], cm: Any, agent: Any
) -> None:
    past = resolved_case("Paket weg, Sendungsverfolgung steht", PAST_ANSWER, cm=cm, reviewer=agent)
    still_open = resolved_case("Paket weg?", PAST_ANSWER, cm=cm, reviewer=agent)
    force_state(still_open.ticket, TicketState.IN_PROGRESS, assignee=agent)
    ticket = ticket_with_mention(LOST_PARCEL)

    answers = suggestions_for(ticket, ticket.mentions.get()).answers

    assert [answer.reply for answer in answers] == [past]
    assert answers[0].score > 0
    assert "sendungsverfolgung" in answers[0].matched_terms


def test_a_ticket_is_not_offered_its_own_answer(cm: Any, agent: Any) -> None:
    past = resolved_case(LOST_PARCEL, PAST_ANSWER, cm=cm, reviewer=agent)

    assert suggestions_for(past.ticket, past.ticket.mentions.get()).answers == []


# --------------------------------------------------------------------------- insertion


def test_inserting_a_link_a_passage_and_an_answer_records_each(
    library: dict[str, Article], cm: Any, agent: Any
) -> None:
    past = resolved_case("Paket weg", PAST_ANSWER, cm=cm, reviewer=agent)
    ticket = ticket_with_mention(LOST_PARCEL)
    article = library["lost_parcel"]

    link = actions.insert_into_draft(ticket, actor=agent, mode=InsertionMode.LINK, article=article)
    quote = actions.insert_into_draft(
        ticket, actor=agent, mode=InsertionMode.QUOTE, article=article
    )
    answer = actions.insert_into_draft(ticket, actor=agent, mode=InsertionMode.ANSWER, answer=past)

    assert link[1] == f"{article.title}: https://hilfe.example/lost_parcel"
    assert quote[1].startswith("Zeigt die Sendungsverfolgung seit drei Werktagen")
    assert answer[1] == PAST_ANSWER
    assert ArticleUse.objects.filter(ticket_id=ticket.pk, inserted_by=agent).count() == 3


def test_insertion_is_refused_on_closed_tickets_for_experts_and_for_drafts(
    library: dict[str, Article], team_lead: Any, agent: Any, expert: Any
) -> None:
    ticket = ticket_with_mention(LOST_PARCEL)
    draft = knowledge_actions.change_article_status(
        library["bike"], actor=team_lead, departments=DEPARTMENTS, status="draft"
    )

    with pytest.raises(InvalidArgument):
        actions.insert_into_draft(ticket, actor=agent, mode=InsertionMode.QUOTE, article=draft)
    with pytest.raises(NotAllowedForRole):
        actions.insert_into_draft(
            ticket, actor=expert, mode=InsertionMode.QUOTE, article=library["lost_parcel"]
        )
    closed = force_state(ticket, TicketState.RESOLVED)
    with pytest.raises(InvalidTransition):
        actions.insert_into_draft(
            closed, actor=agent, mode=InsertionMode.QUOTE, article=library["lost_parcel"]
        )
    assert not ArticleUse.objects.exists()


def test_an_insertion_of_another_ticket_cannot_be_attached_to_a_reply(
    library: dict[str, Article], agent: Any
) -> None:
    one, other = ticket_with_mention(LOST_PARCEL), ticket_with_mention(LOST_PARCEL)
    use, _text = actions.insert_into_draft(
        one, actor=agent, mode=InsertionMode.QUOTE, article=library["lost_parcel"]
    )

    with pytest.raises(InvalidArgument):
        actions.create_reply(
            other, actor=agent, text="Hallo", visibility=ReplyVisibility.PUBLIC,
            kind=ReplyKind.ANSWER, knowledge_uses=[use.pk],
        )  # fmt: skip

    assert not other.replies.exists()


# --------------------------------------------------------------------------- usage


def usage(article: Article) -> tuple[int, int]:
    row = Article.objects.filter(pk=article.pk).with_usage().get()
    return row.sent_replies, row.resolved_cases


def test_usage_counts_sent_replies_and_resolved_cases(
    library: dict[str, Article], agent: Any, other_agent: Any
) -> None:
    article = library["lost_parcel"]
    ticket = ticket_with_mention(LOST_PARCEL, channel=ChannelFactory(platform=Platform.RSS))
    ticket = force_state(ticket, TicketState.IN_PROGRESS, assignee=agent)
    use, text = actions.insert_into_draft(
        ticket, actor=agent, mode=InsertionMode.QUOTE, article=article
    )

    reply = actions.create_reply(
        ticket, actor=agent, text=f"Hallo Erika, {text}", visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER, submit=True, knowledge_uses=[use.pk],
    )  # fmt: skip
    drafted = usage(article)
    reply = actions.approve_reply(reply, actor=other_agent)
    actions.confirm_reply_posted(reply, actor=agent, permalink="https://forum.example/2")
    sent = usage(article)
    ticket = actions.resolve_ticket(Ticket.objects.get(pk=ticket.pk), actor=agent)
    resolved = usage(article)
    actions.reopen_ticket(ticket, actor=agent, reason="Paket doch nicht da")
    reopened = usage(article)

    assert (drafted, sent, resolved, reopened) == ((0, 0), (1, 0), (1, 1), (1, 0))
    event = ticket.events.filter(data__step="drafted").get()
    assert event.data["knowledge_uses"] == [use.pk]


def test_an_insertion_never_sent_counts_nothing(library: dict[str, Article], agent: Any) -> None:
    ticket = ticket_with_mention(LOST_PARCEL)
    actions.insert_into_draft(
        ticket, actor=agent, mode=InsertionMode.QUOTE, article=library["lost_parcel"]
    )

    assert usage(library["lost_parcel"]) == (0, 0)


# --------------------------------------------------------------------------- pages


def test_the_ticket_page_loads_the_suggestions_with_insert_buttons(
    client: Any, library: dict[str, Article], agent: Any
) -> None:
    ticket = ticket_with_mention(LOST_PARCEL)
    client.force_login(agent)

    page = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    fragment = client.get(reverse("tickets:ticket_suggestions", args=[ticket.pk]))

    assert 'id="knowledge-suggestions"' in page.content.decode()
    html = fragment.content.decode()
    assert library["lost_parcel"].title in html
    assert f'data-article="{library["lost_parcel"].pk}"' in html
    assert 'data-mode="quote"' in html


def test_the_insert_endpoint_answers_the_text_and_the_use(
    client: Any, library: dict[str, Article], agent: Any
) -> None:
    ticket = ticket_with_mention(LOST_PARCEL)
    client.force_login(agent)

    ok = client.post(
        reverse("tickets:ticket_insert", args=[ticket.pk]),
        {"mode": "link", "article": library["lost_parcel"].pk},
    )
    refused = client.post(
        reverse("tickets:ticket_insert", args=[ticket.pk]), {"mode": "quote", "article": 999999}
    )

    assert ok.status_code == 200
    assert ok.json() == {
        "use": ArticleUse.objects.get().pk,
        "text": f"{library['lost_parcel'].title}: https://hilfe.example/lost_parcel",
    }
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"


def test_the_composer_sends_the_insertions_with_the_draft(
    client: Any, library: dict[str, Article], agent: Any
) -> None:
    ticket = force_state(ticket_with_mention(LOST_PARCEL), TicketState.IN_PROGRESS, assignee=agent)
    client.force_login(agent)
    use = client.post(
        reverse("tickets:ticket_insert", args=[ticket.pk]),
        {"mode": "quote", "article": library["lost_parcel"].pk},
    ).json()

    response = client.post(
        reverse("tickets:reply_create", args=[ticket.pk]),
        {
            "kind": "answer",
            "visibility": "public",
            "in_reply_to_mention": ticket.mentions.get().pk,
            "text": "Hallo Erika, " + use["text"],
            "knowledge_use": [use["use"]],
        },
    )

    assert response.status_code == 302
    assert ArticleUse.objects.get(pk=use["use"]).reply_id == ticket.replies.get().pk
