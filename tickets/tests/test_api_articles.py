"""`/api/v1/articles/` and `/api/v1/tickets/{id}/suggestions/` (DESIGN §6 rules): search
with score, snippet and matched terms, filters, visibility of drafts, writing by writers only
(an expert for his departments), language versions, conflicts, errors, query budgets."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from knowledge.models import Article, SearchLog
from servicedesk.tests.apiclient import assert_error, client_for
from tickets.tests.factories import DepartmentFactory
from tickets.tests.knowledge_data import resolved_case, ticket_with_mention, write_library

pytestmark = pytest.mark.django_db

LIST = "/api/v1/articles/"
NEW = {"title": "Router neu starten", "body": "Den **Router** trennen.", "language": "de"}


@pytest.fixture
def library(team_lead: Any) -> dict[str, Article]:
    for slug in ("billing", "technical", "logistics", "sales", "product"):
        DepartmentFactory(slug=slug)
    return write_library(team_lead)


def detail(article: Article) -> str:
    return f"{LIST}{article.pk}/"


def test_articles_need_credentials() -> None:
    assert_error(APIClient().get(LIST), 401, "not_authenticated")


def test_search_ranks_with_score_snippet_and_matched_terms(
    library: dict[str, Article], agent: Any
) -> None:
    response = client_for(agent).get(LIST, {"q": "Rückerstattung Zugausfall"})

    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["id"] == library["refund"].pk
    assert first["score"] > 0
    assert "<mark>" in first["snippet"]
    assert "rückerstattung → erstattung" in first["matched_terms"]
    assert first["usage"] == {"sent_replies": 0, "resolved_cases": 0}
    assert SearchLog.objects.get().result_count == response.json()["count"]


def test_filters_by_tag_and_language(library: dict[str, Article], agent: Any) -> None:
    client = client_for(agent)

    tagged = client.get(LIST, {"tag": "blitzbox"}).json()["results"]
    english = client.get(LIST, {"language": "en", "q": "parcel"}).json()["results"]

    assert [item["id"] for item in tagged] == [library["blitzbox"].pk]
    assert [item["id"] for item in english] == [library["lost_parcel_en"].pk]
    assert english[0]["translation_of"] == library["lost_parcel"].pk
    assert english[0]["language_versions"] == [{"id": library["lost_parcel"].pk, "language": "de"}]


def test_the_list_costs_a_constant_number_of_queries(
    library: dict[str, Article], agent: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(agent)
    client.get(LIST)  # warm the token and group lookups' code paths

    with django_assert_max_num_queries(22):
        response = client.get(LIST, {"q": "Paket", "page_size": 50})

    assert response.status_code == 200


def test_a_search_that_finds_nothing_is_logged_as_a_gap(agent: Any) -> None:
    response = client_for(agent).get(LIST, {"q": "Zollgebühren Schweiz"})

    assert response.json()["count"] == 0
    assert SearchLog.objects.without_results().get().normalised_query == "zollgebühren schweiz"


def test_drafts_are_seen_only_by_their_writers(
    library: dict[str, Article], team_lead: Any, agent: Any, expert: Any
) -> None:
    draft = client_for(team_lead).post(
        LIST, {**NEW, "department": "technical", "status": "draft"}, format="json"
    )
    assert draft.status_code == 201, draft.content
    article_id = draft.json()["id"]

    assert client_for(expert).get(f"{LIST}{article_id}/").status_code == 200
    assert_error(client_for(agent).get(f"{LIST}{article_id}/"), 404)
    assert article_id not in {
        item["id"] for item in client_for(agent).get(LIST, {"status": "draft"}).json()["results"]
    }


def test_a_team_lead_writes_and_links_a_further_language(
    library: dict[str, Article], team_lead: Any
) -> None:
    client = client_for(team_lead)

    german = client.post(
        LIST, {**NEW, "tags": ["Router"], "status": "published", "department": "technical"},
        format="json",
    )  # fmt: skip
    english = client.post(
        LIST,
        {"title": "Restart the router", "body": "Unplug it.", "language": "en",
         "translation_of": german.json()["id"], "status": "published"},
        format="json",
    )  # fmt: skip

    assert german.status_code == 201, german.content
    assert german.json()["body_html"] == "<p>Den <strong>Router</strong> trennen.</p>\n"
    assert german.json()["tags"] == ["router"]
    assert english.status_code == 201, english.content
    assert (english.json()["translation_of"], english.json()["department"]) == (
        german.json()["id"],
        "technical",
    )


@pytest.mark.parametrize(
    ("persona", "owner"),
    [("agent", "technical"), ("cm", ""), ("api_client_user", "technical"), ("expert", "billing")],
)
def test_only_writers_of_the_department_write(
    request: Any, persona: str, owner: str, department: Any, other_department: Any
) -> None:
    user = request.getfixturevalue(persona)

    response = client_for(user).post(LIST, {**NEW, "department": owner}, format="json")

    assert_error(response, 403)
    assert not Article.objects.filter(title=NEW["title"]).exists()


def test_an_expert_writes_for_his_department(expert: Any) -> None:
    response = client_for(expert).post(LIST, {**NEW, "department": "technical"}, format="json")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x"},
        {**NEW, "language": "fr"},
        {**NEW, "department": "nonexistent"},
        {**NEW, "translation_of": 999999},
        {**NEW, "status": "archived"},
        {**NEW, "tags": "not a list"},
    ],
)
def test_bad_input_is_400_and_writes_nothing(team_lead: Any, body: dict[str, Any]) -> None:
    response = client_for(team_lead).post(LIST, body, format="json")

    assert_error(response, 400)
    assert not Article.objects.filter(title=NEW["title"]).exists()


def test_patch_changes_content_and_status_and_refuses_a_stale_version(
    library: dict[str, Article], team_lead: Any, agent: Any
) -> None:
    article = library["bike"]
    client = client_for(team_lead)

    changed = client.patch(
        detail(article), {"body": "Neu.", "status": "archived", "version": 1}, format="json"
    )
    stale = client.patch(detail(article), {"title": "Alt", "version": 1}, format="json")
    agent_patch = client_for(agent).patch(detail(article), {"title": "Meins"}, format="json")

    assert changed.status_code == 200, changed.content
    assert (changed.json()["body"], changed.json()["status"], changed.json()["version"]) == (
        "Neu.",
        "archived",
        3,
    )
    assert_error(stale, 409, "conflict")
    assert_error(agent_patch, 404)  # archived: agents do not see it any more


def test_an_agent_may_not_patch_a_published_article(
    library: dict[str, Article], agent: Any
) -> None:
    response = client_for(agent).patch(detail(library["bike"]), {"title": "Meins"}, format="json")

    assert_error(response, 403)


# --------------------------------------------------------------------------- suggestions


def test_ticket_suggestions_answer_articles_and_answers_with_scores(
    library: dict[str, Article], cm: Any, agent: Any
) -> None:
    past = resolved_case(
        "Paket verschwunden", "Zeigt die Sendungsverfolgung nichts, suchen wir dein Paket.",
        cm=cm, reviewer=agent,
    )  # fmt: skip
    ticket = ticket_with_mention("@PaketBlitz Paket verschwunden, Sendungsverfolgung zeigt nichts")

    response = client_for(agent).get(f"/api/v1/tickets/{ticket.pk}/suggestions/")

    body = response.json()
    assert response.status_code == 200
    assert body["mention"] == ticket.mentions.get().pk
    assert body["articles"][0]["id"] == library["lost_parcel"].pk
    assert body["articles"][0]["score"] > 0
    assert "paket" in body["articles"][0]["matched_terms"]
    assert [answer["reply"] for answer in body["answers"]] == [past.pk]
    assert body["answers"][0]["ticket"] == past.ticket_id


def test_ticket_suggestions_refuse_a_foreign_mention_and_hide_from_experts(
    library: dict[str, Article], agent: Any, expert: Any
) -> None:
    ticket = ticket_with_mention("Paket weg")
    other = ticket_with_mention("Router kaputt")
    url = f"/api/v1/tickets/{ticket.pk}/suggestions/"

    assert_error(client_for(agent).get(url, {"mention": other.mentions.get().pk}), 400)
    assert_error(client_for(agent).get(url, {"mention": "x"}), 400)
    assert_error(client_for(expert).get(url), 404)
