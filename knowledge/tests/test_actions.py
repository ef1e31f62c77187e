"""knowledge.actions: who writes which article, language versions, the version history,
status changes, proposals and their four-eyes review, expiry flagging, guideline articles."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from knowledge import actions
from knowledge.choices import ArticleStatus, ProposalStatus
from knowledge.models import Article, ArticleVersion
from knowledge.tests.helpers import departments, write
from servicedesk.errors import InvalidArgument, NotAllowedForRole

pytestmark = pytest.mark.django_db

CONTENT = {"tags": ["paket"], "product": "PaketBlitz", "public_url": ""}


def article_of(actor: Any, **fields: Any) -> Article:
    fields.setdefault("department", "technical")
    return write(actor, "Router neu starten", "Den Router 30 Sekunden vom Strom trennen.", **fields)


# --------------------------------------------------------------------------- who writes


def test_a_team_lead_writes_for_every_department_and_the_whole_desk(team_lead: Any) -> None:
    technical = article_of(team_lead)
    desk_wide = write(team_lead, "Netiquette", "Freundlich bleiben.", department="")

    assert (technical.department, desk_wide.department) == ("technical", "")
    assert technical.versions.get().changed_by == team_lead


def test_an_expert_writes_for_his_department(expert: Any) -> None:
    article = article_of(expert, own=("technical",))

    assert article.status == ArticleStatus.PUBLISHED


@pytest.mark.parametrize("owner", ["billing", ""])
def test_an_expert_writes_only_for_his_departments(expert: Any, owner: str) -> None:
    with pytest.raises(NotAllowedForRole):
        article_of(expert, own=("technical",), department=owner)

    assert not Article.objects.filter(title="Router neu starten").exists()


@pytest.mark.parametrize("persona", ["cm", "agent", "api_client_user"])
def test_cms_agents_and_machines_do_not_write_articles(
    persona: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(NotAllowedForRole):
        article_of(request.getfixturevalue(persona))


def test_an_expert_edits_only_the_articles_of_his_department(
    team_lead: Any, expert: Any, other_expert: Any
) -> None:
    article = article_of(team_lead)

    with pytest.raises(NotAllowedForRole):
        actions.edit_article(
            article, actor=other_expert, departments=departments("billing"),
            title="Anders", body="Anders.", department="technical", valid_until=None, **CONTENT,
        )  # fmt: skip
    with pytest.raises(NotAllowedForRole):  # nor move it into a department he does not write
        actions.edit_article(
            article, actor=expert, departments=departments("technical"),
            title="Router", body="Text.", department="billing", valid_until=None, **CONTENT,
        )  # fmt: skip

    article.refresh_from_db()
    assert (article.title, article.version) == ("Router neu starten", 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "  "), ("body", ""), ("language", "fr"), ("department", "nonexistent")],
)
def test_bad_input_is_refused_and_nothing_is_written(
    team_lead: Any, field: str, value: str
) -> None:
    fields = {"title": "Titel", "body": "Text", "language": "de", "department": "technical"}
    fields[field] = value

    with pytest.raises(InvalidArgument):
        actions.create_article(actor=team_lead, departments=departments(), **fields)

    assert not Article.objects.filter(title="Titel").exists()


def test_tags_are_normalised(team_lead: Any) -> None:
    article = write(team_lead, "T", "B", tags=["Paket", " Verlust ", "#paket", "Lost Parcel"])

    assert article.tags == ["paket", "verlust", "lost-parcel"]


# --------------------------------------------------------------------------- languages


def test_a_further_language_links_to_the_first_and_keeps_its_owner(team_lead: Any) -> None:
    german = article_of(team_lead, product="Telvia DSL", valid_until=date(2027, 1, 31))
    english = write(
        team_lead, "Restart the router", "Unplug it.", language="en",
        translation_of=german, department="billing",
    )  # fmt: skip

    assert english.translation_of == german
    assert (english.department, english.product, english.valid_until) == (
        "technical",
        "Telvia DSL",
        date(2027, 1, 31),
    )
    assert list(Article.objects.of_family(english).order_by("language")) == [german, english]


def test_a_language_an_article_has_already_is_refused(team_lead: Any) -> None:
    german = article_of(team_lead)
    english = write(team_lead, "Restart", "Unplug.", language="en", translation_of=german)

    with pytest.raises(InvalidArgument):
        write(team_lead, "Neustart", "Stecker ziehen.", language="de", translation_of=english)


# --------------------------------------------------------------------------- history


def test_an_edit_is_a_new_version_naming_who_changed_which_fields(
    team_lead: Any, expert: Any
) -> None:
    article = article_of(team_lead)

    article = actions.edit_article(
        article, actor=expert, departments=departments("technical"), title="Router neu starten",
        body="Den Router 60 Sekunden vom Strom trennen.", department="technical",
        valid_until=date(2027, 6, 30), note="Länger warten", **CONTENT,
    )  # fmt: skip

    latest = ArticleVersion.objects.get(article=article, number=2)
    assert article.version == 2
    assert latest.changed_by == expert
    assert sorted(latest.changed_fields) == ["body", "product", "tags", "valid_until"]
    assert (latest.note, latest.body) == ("Länger warten", article.body)
    assert article.versions.get(number=1).body == "Den Router 30 Sekunden vom Strom trennen."


def test_saving_the_same_content_writes_no_version(team_lead: Any) -> None:
    article = article_of(team_lead, tags=["router"])

    actions.edit_article(
        article, actor=team_lead, departments=departments(), title=article.title,
        body=article.body, tags=["router"], product="", public_url="", department="technical",
        valid_until=None,
    )  # fmt: skip

    assert article.versions.count() == 1


def test_an_edit_against_an_old_version_is_a_conflict(team_lead: Any) -> None:
    article = article_of(team_lead)
    edit = {"department": "technical", "valid_until": None, **CONTENT}
    actions.edit_article(article, actor=team_lead, departments=departments(),
                         title="Erste", body="Eins.", **edit)  # fmt: skip

    with pytest.raises(actions.ArticleChanged):
        actions.edit_article(
            article, actor=team_lead, departments=departments(), title="Zweite", body="Zwei.",
            expected_version=1, **edit,
        )  # fmt: skip

    assert Article.objects.get(pk=article.pk).title == "Erste"


def test_status_changes_are_transitions_and_versions(team_lead: Any) -> None:
    article = article_of(team_lead, status=ArticleStatus.DRAFT)

    article = actions.change_article_status(
        article, actor=team_lead, departments=departments(), status=ArticleStatus.PUBLISHED
    )
    published_at = article.published_at
    article = actions.change_article_status(
        article, actor=team_lead, departments=departments(), status=ArticleStatus.ARCHIVED
    )

    assert (article.status, article.version) == (ArticleStatus.ARCHIVED, 3)
    assert published_at is not None
    assert list(article.versions.order_by("number").values_list("status", flat=True)) == [
        "draft",
        "published",
        "archived",
    ]


def test_an_agent_may_not_publish(team_lead: Any, agent: Any) -> None:
    article = article_of(team_lead, status=ArticleStatus.DRAFT)

    with pytest.raises(NotAllowedForRole):
        actions.change_article_status(
            article, actor=agent, departments=departments(), status=ArticleStatus.PUBLISHED
        )

    assert Article.objects.get(pk=article.pk).status == ArticleStatus.DRAFT


# --------------------------------------------------------------------------- proposals


def propose(article: Article, actor: Any, body: str = "Den Router 2 Minuten trennen.") -> Any:
    return actions.propose_change(
        article, actor=actor, departments=departments(), title=article.title, body=body,
        tags=article.tags, product=article.product, public_url=article.public_url,
        comment="Steht so im Handbuch",
    )  # fmt: skip


def test_an_agent_proposes_and_the_owner_department_accepts(
    team_lead: Any, agent: Any, expert: Any
) -> None:
    article = article_of(team_lead)
    proposal = propose(article, agent)

    article = actions.accept_proposal(proposal, actor=expert, departments=departments("technical"))

    proposal.refresh_from_db()
    version = article.versions.get(number=2)
    assert article.body == "Den Router 2 Minuten trennen."
    assert (proposal.status, proposal.reviewed_by) == (ProposalStatus.ACCEPTED, expert)
    assert (version.changed_by, version.proposal) == (expert, proposal)
    assert "accepted by" in version.note


def test_the_proposer_never_reviews_his_own_proposal(team_lead: Any) -> None:
    article = article_of(team_lead)
    proposal = propose(article, team_lead)

    with pytest.raises(actions.SelfReviewNotAllowed):
        actions.accept_proposal(proposal, actor=team_lead, departments=departments())

    assert Article.objects.get(pk=article.pk).version == 1


@pytest.mark.parametrize("reviewer", ["other_expert", "cm", "other_agent"])
def test_only_the_owner_department_reviews(
    team_lead: Any, agent: Any, reviewer: str, request: pytest.FixtureRequest
) -> None:
    article = article_of(team_lead)
    proposal = propose(article, agent)

    with pytest.raises(NotAllowedForRole):
        actions.accept_proposal(
            proposal, actor=request.getfixturevalue(reviewer), departments=departments("billing")
        )

    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING


def test_a_proposal_on_an_outdated_version_cannot_be_accepted(
    team_lead: Any, agent: Any, expert: Any
) -> None:
    article = article_of(team_lead)
    proposal = propose(article, agent)
    actions.edit_article(
        article, actor=team_lead, departments=departments(), title="Neu", body="Neu.",
        department="technical", valid_until=None, **CONTENT,
    )  # fmt: skip

    with pytest.raises(actions.ProposalOutdated):
        actions.accept_proposal(proposal, actor=expert, departments=departments("technical"))

    assert Article.objects.get(pk=article.pk).body == "Neu."


def test_a_rejection_needs_a_reason_and_changes_nothing(
    team_lead: Any, agent: Any, expert: Any
) -> None:
    article = article_of(team_lead)
    proposal = propose(article, agent)

    with pytest.raises(InvalidArgument):
        actions.reject_proposal(
            proposal, actor=expert, departments=departments("technical"), comment=" "
        )
    proposal = actions.reject_proposal(
        proposal, actor=expert, departments=departments("technical"), comment="Stimmt nicht"
    )

    assert (proposal.status, proposal.review_comment) == (ProposalStatus.REJECTED, "Stimmt nicht")
    assert Article.objects.get(pk=article.pk).version == 1


def test_a_proposal_that_changes_nothing_is_refused(team_lead: Any, agent: Any) -> None:
    article = article_of(team_lead)

    with pytest.raises(InvalidArgument):
        propose(article, agent, body=article.body)


def test_a_proposed_new_article_is_created_when_accepted(agent: Any, expert: Any) -> None:
    proposal = actions.propose_article(
        actor=agent, departments=departments(), language="de", title="WLAN-Passwort",
        body="Steht auf der Rückseite des Routers.", department="technical",
    )  # fmt: skip

    article = actions.accept_proposal(proposal, actor=expert, departments=departments("technical"))

    assert (article.title, article.status, article.department) == (
        "WLAN-Passwort",
        ArticleStatus.PUBLISHED,
        "technical",
    )
    assert article.versions.get().proposal == proposal


def test_only_the_author_withdraws_a_proposal(team_lead: Any, agent: Any, other_agent: Any) -> None:
    proposal = propose(article_of(team_lead), agent)

    with pytest.raises(NotAllowedForRole):
        actions.withdraw_proposal(proposal, actor=other_agent)
    proposal = actions.withdraw_proposal(proposal, actor=agent)

    assert proposal.status == ProposalStatus.WITHDRAWN


# --------------------------------------------------------------------------- expiry


def test_articles_past_their_valid_until_date_are_flagged_once(team_lead: Any) -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.get_default_timezone())
    expired = article_of(team_lead, valid_until=date(2026, 12, 1))
    article_of(team_lead, valid_until=date(2026, 12, 2))  # valid through its last day
    article_of(team_lead, valid_until=date(2026, 11, 1), status=ArticleStatus.DRAFT)

    first = actions.flag_expired_articles(actor=None, now=now)
    second = actions.flag_expired_articles(actor=None, now=now + timedelta(hours=1))

    assert [article.pk for article in first] == [expired.pk]
    assert second == []


def test_a_new_valid_until_date_is_flagged_again_once_it_passes(team_lead: Any) -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.get_default_timezone())
    article = article_of(team_lead, valid_until=date(2026, 12, 1))
    actions.flag_expired_articles(actor=None, now=now)

    article = actions.edit_article(
        article, actor=team_lead, departments=departments(), title=article.title,
        body=article.body, department="technical", valid_until=date(2026, 12, 10), **CONTENT,
    )  # fmt: skip

    assert article.expiry_flagged_at is None
    assert actions.flag_expired_articles(actor=None, now=now + timedelta(days=9)) == [article]


# --------------------------------------------------------------------------- guidelines


def test_the_guidelines_are_articles_in_both_languages_after_migrating() -> None:
    guidelines = Article.objects.filter(tags__contains=["guidelines"]).order_by("language")

    german, english = guidelines
    assert german.title == "Social-Media-Richtlinien für das Service-Team"
    assert english.translation_of == german
    assert german.status == ArticleStatus.PUBLISHED
    assert german.body.startswith("- Antworte innerhalb von 24 Stunden")
    assert actions.install_guideline_articles(actor=None) == 0


def test_installing_the_guideline_articles_creates_them_once(team_lead: Any) -> None:
    guidelines = Article.objects.filter(tags__contains=["guidelines"])
    guidelines.filter(translation_of__isnull=False).delete()
    guidelines.delete()

    assert actions.install_guideline_articles(actor=team_lead) == 2
    assert actions.install_guideline_articles(actor=team_lead) == 0
