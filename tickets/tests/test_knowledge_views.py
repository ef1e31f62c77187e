"""The information centre's pages: search, reading, writing and editing by writers only,
proposals and their review with notifications, the version history, the guidelines page,
experts confined to it, articles from answers, topics, expiry notices and the dashboard."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from knowledge import actions as knowledge_actions
from knowledge.choices import InsertionMode, ProposalStatus
from knowledge.models import Article, ArticleProposal, SearchLog
from monitoring.choices import Platform
from tickets import actions
from tickets.choices import NotificationKind, ReplyKind, ReplyVisibility, TicketState
from tickets.models import Notification, Ticket, Topic
from tickets.tests.factories import ChannelFactory, DepartmentFactory
from tickets.tests.helpers import force_state
from tickets.tests.knowledge_data import (
    DEPARTMENTS,
    resolved_case,
    ticket_with_mention,
    write_library,
)

pytestmark = pytest.mark.django_db

LIST = reverse("tickets:knowledge_list")


@pytest.fixture
def library(team_lead: Any, department: Any, other_department: Any) -> dict[str, Article]:
    for slug in ("logistics", "sales", "product"):
        DepartmentFactory(slug=slug)
    return write_library(team_lead)


def page(client: Any, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_search_shows_ranked_highlighted_results_and_logs_the_search(
    client: Any, library: dict[str, Article], agent: Any
) -> None:
    client.force_login(agent)

    html = page(client, LIST, q="Rückerstattung")

    assert library["refund"].title in html
    assert "<mark>Erstattung</mark>" in html
    assert SearchLog.objects.get().result_count >= 1


def test_a_search_that_finds_nothing_says_so_and_is_recorded(client: Any, agent: Any) -> None:
    client.force_login(agent)

    html = page(client, LIST, q="Zollgebühren")

    assert 'id="no-articles"' in html
    assert SearchLog.objects.without_results().get().query == "Zollgebühren"


def test_agents_read_and_propose_but_do_not_edit_or_publish(
    client: Any, library: dict[str, Article], agent: Any
) -> None:
    article = library["line_drops"]
    client.force_login(agent)

    html = page(client, reverse("tickets:knowledge_article", args=[article.pk]))
    edit = client.get(reverse("tickets:knowledge_edit", args=[article.pk]))
    archive = client.post(
        reverse("tickets:knowledge_status", args=[article.pk]),
        {"status": "archived", "version": article.version},
    )

    assert "Propose a change" in html
    assert reverse("tickets:knowledge_edit", args=[article.pk]) not in html
    assert edit.status_code == 302
    assert edit["Location"] == reverse("tickets:knowledge_propose", args=[article.pk])
    assert archive.status_code == 302
    assert Article.objects.get(pk=article.pk).status == "published"


def test_a_proposal_goes_to_the_owner_department_and_its_review_to_the_proposer(
    client: Any, library: dict[str, Article], agent: Any, expert: Any
) -> None:
    article = library["line_drops"]  # owned by the technical department (the expert's)
    client.force_login(agent)
    response = client.post(
        reverse("tickets:knowledge_propose", args=[article.pk]),
        {"title": article.title, "body": article.body + "\n\nAuch das Kabel prüfen.",
         "tags": "internet, router", "product": article.product, "public_url": "",
         "comment": "Kunden fragen oft nach dem Kabel"},
    )  # fmt: skip
    proposal = ArticleProposal.objects.get()

    client.force_login(expert)
    review = page(client, reverse("tickets:knowledge_proposal", args=[proposal.pk]))
    accepted = client.post(
        reverse("tickets:knowledge_proposal", args=[proposal.pk]),
        {"decision": "accept", "comment": "", "publish": "on"},
    )

    assert response.status_code == 302
    assert Notification.objects.get(user=expert).kind == NotificationKind.ARTICLE_PROPOSAL
    assert "Auch das Kabel prüfen." in review and 'id="accept-proposal"' in review
    assert accepted.status_code == 302
    assert Article.objects.get(pk=article.pk).body.endswith("Auch das Kabel prüfen.")
    notice = Notification.objects.get(user=agent)
    assert (notice.kind, notice.data["article"]) == (NotificationKind.ARTICLE_REVIEWED, article.pk)


def test_an_expert_of_another_department_cannot_accept(
    client: Any, library: dict[str, Article], agent: Any, other_expert: Any
) -> None:
    article = library["line_drops"]
    proposal = actions.propose_article_change(
        article, actor=agent, title=article.title, body="Anders.", tags=[], product="",
        public_url="",
    )  # fmt: skip
    client.force_login(other_expert)

    response = client.post(
        reverse("tickets:knowledge_proposal", args=[proposal.pk]), {"decision": "accept"}
    )

    assert response.status_code == 404  # not his department's: he does not even see it
    assert ArticleProposal.objects.get().status == ProposalStatus.PENDING


def test_experts_reach_the_information_centre_and_write_for_their_department(
    client: Any, library: dict[str, Article], expert: Any
) -> None:
    client.force_login(expert)

    created = client.post(
        reverse("tickets:knowledge_new"),
        {"title": "Glasfaser-Anschluss", "body": "Der Techniker kommt nach Termin.",
         "language": "de", "department": "technical", "status": "published", "tags": "",
         "product": "", "public_url": "", "note": ""},
    )  # fmt: skip
    html = page(client, LIST, q="Glasfaser")

    assert created.status_code == 302
    assert "Glasfaser-Anschluss" in html
    assert client.get(reverse("tickets:queue")).status_code == 404  # still confined


def test_writers_edit_and_a_stale_edit_is_a_conflict(
    client: Any, library: dict[str, Article], team_lead: Any
) -> None:
    article = library["bike"]
    client.force_login(team_lead)
    form = {
        "title": article.title, "body": "Neuer Text.", "language": "de", "department": "sales",
        "tags": "fahrrad", "product": "ZugPlus", "public_url": "", "version": 1, "note": "",
    }  # fmt: skip

    saved = client.post(reverse("tickets:knowledge_edit", args=[article.pk]), form)
    stale = client.post(
        reverse("tickets:knowledge_edit", args=[article.pk]), {**form, "body": "Alt."}
    )
    history = page(client, reverse("tickets:knowledge_history", args=[article.pk]))

    assert saved.status_code == 302
    assert stale.status_code == 409
    assert Article.objects.get(pk=article.pk).body == "Neuer Text."
    assert "Neuer Text." in history and 'id="version-2"' in history


def test_the_guidelines_page_shows_the_guideline_articles_in_the_users_language(
    client: Any, agent: Any, settings: Any
) -> None:
    client.force_login(agent)

    html = page(client, reverse("tickets:guidelines"))

    assert "Social media guidelines for the service team" in html
    assert "Four-eyes principle" in html


def test_an_answer_that_worked_becomes_an_article_in_one_step(
    client: Any, library: dict[str, Article], cm: Any, agent: Any, team_lead: Any
) -> None:
    answer = resolved_case(
        "Paket weg", "Wir starten einen Nachforschungsauftrag.", cm=cm, reviewer=agent
    )
    form = {
        "title": "Nachforschung", "body": answer.text, "language": "de",
        "department": "logistics", "tags": "paket", "product": "", "public_url": "",
    }  # fmt: skip

    client.force_login(agent)
    proposed = client.post(reverse("tickets:knowledge_new") + f"?from_answer={answer.pk}", form)
    client.force_login(team_lead)
    written = client.post(reverse("tickets:knowledge_new") + f"?from_answer={answer.pk}", form)

    assert proposed.status_code == 302
    assert ArticleProposal.objects.get().source_reply_id == answer.pk
    assert written.status_code == 302
    article = Article.objects.get(title="Nachforschung")
    assert (article.status, article.source_reply_id) == ("published", answer.pk)


def test_team_leads_link_topics_to_articles_and_the_dashboard_shows_them(
    client: Any, library: dict[str, Article], team_lead: Any
) -> None:
    topic = Topic.objects.create(name="Paket verschollen", created_at=timezone.now())
    client.force_login(team_lead)

    client.post(
        reverse("tickets:knowledge_topics", args=[library["lost_parcel"].pk]),
        {"topics": [topic.pk]},
    )
    html = page(client, reverse("tickets:dashboard"))

    assert list(topic.articles.all()) == [library["lost_parcel"]]
    assert library["lost_parcel"].title in html


def test_the_dashboard_lists_the_most_used_articles_and_the_searches_that_found_nothing(
    client: Any, library: dict[str, Article], agent: Any, other_agent: Any, team_lead: Any
) -> None:
    ticket = ticket_with_mention("Paket weg", channel=ChannelFactory(platform=Platform.RSS))
    ticket = force_state(ticket, TicketState.IN_PROGRESS, assignee=agent)
    use, text = actions.insert_into_draft(
        ticket, actor=agent, mode=InsertionMode.QUOTE, article=library["lost_parcel"]
    )
    reply = actions.create_reply(
        ticket, actor=agent, text=text, visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER, submit=True, knowledge_uses=[use.pk],
    )  # fmt: skip
    reply = actions.approve_reply(reply, actor=other_agent)
    actions.confirm_reply_posted(reply, actor=agent, permalink="https://forum.example/9")
    actions.resolve_ticket(Ticket.objects.get(pk=ticket.pk), actor=agent)
    knowledge_actions.record_search(actor=agent, query="Zollgebühren", result_count=0)
    knowledge_actions.record_search(actor=other_agent, query="zollgebühren ", result_count=0)
    client.force_login(team_lead)

    html = page(client, reverse("tickets:dashboard"))
    articles_csv = client.get(reverse("tickets:dashboard_export", args=["articles"]))

    assert 'id="dash-articles-title"' in html and 'id="dash-search_gaps-title"' in html
    assert library["lost_parcel"].title in html
    assert "zollgebühren" in html
    rows = b"".join(articles_csv.streaming_content).decode("utf-8-sig").splitlines()
    assert rows[1].split(";")[-2:] == ["1", "1"]


def test_expired_articles_are_flagged_to_their_owners_once(
    library: dict[str, Article], team_lead: Any, expert: Any
) -> None:
    article = knowledge_actions.edit_article(
        library["line_drops"], actor=team_lead, departments=DEPARTMENTS,
        title=library["line_drops"].title, body=library["line_drops"].body, tags=["internet"],
        product="Telvia DSL", department="technical", public_url="",
        valid_until=date.today() - timedelta(days=3),
    )  # fmt: skip

    first = actions.flag_expired_articles(now=timezone.now())
    second = actions.flag_expired_articles(now=timezone.now())

    notice = Notification.objects.get(user=expert)
    assert (first, second) == (1, 0)
    assert (notice.kind, notice.data["article"]) == (NotificationKind.ARTICLE_EXPIRED, article.pk)
    assert not Notification.objects.filter(user=team_lead).exists()
