"""Proposals: changes to an article, or a new article, proposed by someone who may not write
it, and their review by the owner department (four eyes: never the proposer)."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from knowledge import access
from knowledge.access import Departments
from knowledge.actions.articles import (
    CONTENT_FIELDS,
    ArticleChanged,
    ArticleStatusNotAllowed,
    ProposalOutdated,
    SelfReviewNotAllowed,
    checked_content,
    checked_department,
    checked_language,
    create_article,
    edit_article,
    required_text,
)
from knowledge.choices import DESK_WIDE, ArticleStatus
from knowledge.models import Article, ArticleProposal, ArticleVersion
from servicedesk.errors import InvalidArgument, NotAllowedForRole


def _ensure_may_propose(actor: Any) -> None:
    if not access.may_propose(actor):
        raise NotAllowedForRole(_("Your role may not propose articles."))


@transaction.atomic
def propose_change(
    article: Article,
    *,
    actor: Any,
    departments: Departments,
    title: str,
    body: str,
    tags: Iterable[str],
    product: str,
    public_url: str,
    comment: str = "",
) -> ArticleProposal:
    """Propose a new text for an article (CMs, agents, experts of other departments); the
    owner department reviews it. Refuses NotAllowedForRole and InvalidArgument (bad input,
    nothing changed)."""
    _ensure_may_propose(actor)
    content = checked_content(
        title=title,
        body=body,
        tags=tags,
        product=product,
        department=article.department,
        public_url=public_url,
        valid_until=article.valid_until,
    )
    if all(getattr(article, name) == content[name] for name in CONTENT_FIELDS):
        raise InvalidArgument(_("The proposal changes nothing."), field="body")
    return ArticleProposal.objects.create(
        article=article,
        base_version=article.version,
        language=article.language,
        title=content["title"],
        body=content["body"],
        tags=content["tags"],
        product=content["product"],
        department=article.department,
        public_url=content["public_url"],
        comment=(comment or "").strip(),
        proposed_by=actor,
        proposed_at=timezone.now(),
    )


@transaction.atomic
def propose_article(
    *,
    actor: Any,
    departments: Departments,
    language: str,
    title: str,
    body: str,
    tags: Iterable[str] = (),
    product: str = "",
    department: str = DESK_WIDE,
    public_url: str = "",
    comment: str = "",
    source_reply_id: int | None = None,
) -> ArticleProposal:
    """Propose a new article to the department that should own it (e.g. an answer that
    worked, by the agent who wrote it). Refuses NotAllowedForRole and InvalidArgument."""
    _ensure_may_propose(actor)
    content = checked_content(
        title=title,
        body=body,
        tags=tags,
        product=product,
        department=department,
        public_url=public_url,
        valid_until=None,
    )
    content["department"] = checked_department(department, departments)
    return ArticleProposal.objects.create(
        language=checked_language(language),
        title=content["title"],
        body=content["body"],
        tags=content["tags"],
        product=content["product"],
        department=content["department"],
        public_url=content["public_url"],
        comment=(comment or "").strip(),
        source_reply_id=source_reply_id,
        proposed_by=actor,
        proposed_at=timezone.now(),
    )


def _lock_proposal(proposal: ArticleProposal) -> ArticleProposal:
    locked = ArticleProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != proposal.status:
        raise ArticleChanged(expected=proposal.status, actual=locked.status)
    return locked


def _ensure_may_review(actor: Any, proposal: ArticleProposal, departments: Departments) -> None:
    if proposal.proposed_by_id == actor.pk:
        raise SelfReviewNotAllowed()
    if not access.may_review(actor, proposal, departments=departments.own):
        raise NotAllowedForRole(_("Only the owner department reviews this proposal."))


@transaction.atomic
def accept_proposal(
    proposal: ArticleProposal,
    *,
    actor: Any,
    departments: Departments,
    comment: str = "",
    publish: bool = True,
) -> Article:
    """The owner department accepts a proposal (four eyes: never its author). A change is
    applied to the article as a new version naming the proposal; a new article is created
    (published, or a draft with `publish=False`). Refuses SelfReviewNotAllowed,
    NotAllowedForRole, ProposalOutdated (the article changed since), ArticleChanged."""
    now = timezone.now()
    _ensure_may_review(actor, proposal, departments)
    proposal = _lock_proposal(proposal)
    if not can_proceed(proposal.accept):
        raise ArticleStatusNotAllowed(_("Only a proposal waiting for review can be accepted."))
    note = _("Proposal #%(number)s by %(author)s, accepted by %(reviewer)s") % {
        "number": proposal.pk,
        "author": _person(proposal.proposed_by),
        "reviewer": _person(actor),
    }
    if proposal.is_new_article:
        article = create_article(
            actor=actor,
            departments=departments,
            language=proposal.language,
            title=proposal.title,
            body=proposal.body,
            tags=proposal.tags,
            product=proposal.product,
            department=proposal.department,
            public_url=proposal.public_url,
            status=ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
            source_reply_id=proposal.source_reply_id,
            note=note,
        )
        ArticleVersion.objects.filter(article=article, number=1).update(proposal=proposal)
        proposal.article = article
    else:
        article = proposal.article
        if article.version != proposal.base_version:
            raise ProposalOutdated(base_version=proposal.base_version, version=article.version)
        article = edit_article(
            article,
            actor=actor,
            departments=departments,
            title=proposal.title,
            body=proposal.body,
            tags=proposal.tags,
            product=proposal.product,
            department=article.department,
            public_url=proposal.public_url,
            valid_until=article.valid_until,
            expected_version=proposal.base_version,
            note=note,
        )
        ArticleVersion.objects.filter(article=article, number=article.version).update(
            proposal=proposal
        )
    proposal.accept(reviewer=actor, comment=(comment or "").strip(), at=now)
    proposal.save(
        update_fields=["status", "article", "reviewed_by", "reviewed_at", "review_comment"]
    )
    return article


@transaction.atomic
def reject_proposal(
    proposal: ArticleProposal, *, actor: Any, departments: Departments, comment: str
) -> ArticleProposal:
    """The owner department declines a proposal, saying why (comment required)."""
    comment = required_text(comment, "comment", 2000)
    now = timezone.now()
    _ensure_may_review(actor, proposal, departments)
    proposal = _lock_proposal(proposal)
    if not can_proceed(proposal.reject):
        raise ArticleStatusNotAllowed(_("Only a proposal waiting for review can be rejected."))
    proposal.reject(reviewer=actor, comment=comment, at=now)
    proposal.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    return proposal


@transaction.atomic
def withdraw_proposal(proposal: ArticleProposal, *, actor: Any) -> ArticleProposal:
    """Its author takes a proposal back while it waits for review."""
    if proposal.proposed_by_id != actor.pk:
        raise NotAllowedForRole(_("Only the author withdraws a proposal."))
    proposal = _lock_proposal(proposal)
    if not can_proceed(proposal.withdraw):
        raise ArticleStatusNotAllowed(_("Only a proposal waiting for review can be withdrawn."))
    proposal.withdraw(at=timezone.now())
    proposal.save(update_fields=["status", "reviewed_at"])
    return proposal


def _person(user: Any) -> str:
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()
