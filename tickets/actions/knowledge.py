"""The desk's side of the information centre: what joins articles to tickets and people.

knowledge.actions writes the articles; these actions add what only the desk knows: the
person's departments (tickets.access.knowledge_departments), notifications to the owner
department and to proposers, the insertion of an article or a past answer into a reply
draft on a ticket, turning an answer that worked into an article, the topics' articles, and
the flagging of expired articles to their owners.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from knowledge import actions as knowledge_actions
from knowledge.access import writes_every_article
from knowledge.choices import DESK_WIDE, ArticleStatus, InsertionMode
from knowledge.models import Article, ArticleProposal, ArticleUse
from knowledge.search import best_passages, build_query
from servicedesk import roles
from servicedesk.errors import InvalidArgument, InvalidTransition, NotAllowedForRole
from tickets import access
from tickets.actions.notifications import notify
from tickets.choices import OPEN_STATES, NotificationKind, ReplyKind, TicketState
from tickets.models import Department, Reply, Ticket, Topic
from tickets.reply_context import answered_mention

User = get_user_model()


def owners_of(department: str) -> list[Any]:
    """Who owns articles of `department`: its experts; desk-wide articles: the team leads."""
    if department == DESK_WIDE:
        return list(User.objects.filter(groups__name=roles.TEAM_LEAD, is_active=True))
    return list(User.objects.filter(departments__slug=department, is_active=True))


# --------------------------------------------------------------------------- proposals


def _tell_reviewers(proposal: ArticleProposal, *, now: datetime) -> None:
    reviewers = [
        user for user in owners_of(proposal.department) if user.pk != proposal.proposed_by_id
    ]
    notify(
        reviewers,
        NotificationKind.ARTICLE_PROPOSAL,
        at=now,
        text=lambda: (
            _("%(person)s proposes a change to the article “%(title)s”.")
            % {"person": _person(proposal.proposed_by), "title": proposal.title}
            if not proposal.is_new_article
            else _("%(person)s proposes a new article “%(title)s”.")
            % {"person": _person(proposal.proposed_by), "title": proposal.title}
        ),
        dedupe_key=f"article-proposal:{proposal.pk}",
        proposal=proposal.pk,
    )


@transaction.atomic
def propose_article_change(article: Article, *, actor: Any, **content: Any) -> ArticleProposal:
    """knowledge.actions.propose_change, and the owner department is told."""
    proposal = knowledge_actions.propose_change(
        article, actor=actor, departments=access.knowledge_departments(actor), **content
    )
    _tell_reviewers(proposal, now=proposal.proposed_at)
    return proposal


@transaction.atomic
def propose_new_article(*, actor: Any, **content: Any) -> ArticleProposal:
    """knowledge.actions.propose_article, and the chosen owner department is told."""
    proposal = knowledge_actions.propose_article(
        actor=actor, departments=access.knowledge_departments(actor), **content
    )
    _tell_reviewers(proposal, now=proposal.proposed_at)
    return proposal


@transaction.atomic
def accept_article_proposal(
    proposal: ArticleProposal, *, actor: Any, comment: str = "", publish: bool = True
) -> Article:
    """knowledge.actions.accept_proposal, and the proposer is told."""
    article = knowledge_actions.accept_proposal(
        proposal,
        actor=actor,
        departments=access.knowledge_departments(actor),
        comment=comment,
        publish=publish,
    )
    notify(
        [proposal.proposed_by],
        NotificationKind.ARTICLE_REVIEWED,
        at=article.updated_at,
        text=lambda: (
            _("Your proposal “%(title)s” was accepted by %(person)s.")
            % {"title": proposal.title, "person": _person(actor)}
        ),
        article=article.pk,
    )
    return article


@transaction.atomic
def reject_article_proposal(
    proposal: ArticleProposal, *, actor: Any, comment: str
) -> ArticleProposal:
    """knowledge.actions.reject_proposal, and the proposer is told why."""
    proposal = knowledge_actions.reject_proposal(
        proposal, actor=actor, departments=access.knowledge_departments(actor), comment=comment
    )
    notify(
        [proposal.proposed_by],
        NotificationKind.ARTICLE_REVIEWED,
        at=proposal.reviewed_at,
        text=lambda: (
            _("Your proposal “%(title)s” was rejected by %(person)s: %(comment)s")
            % {
                "title": proposal.title,
                "person": _person(actor),
                "comment": proposal.review_comment,
            }
        ),
        proposal=proposal.pk,
    )
    return proposal


def _person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


# --------------------------------------------------------------------------- answering


def sent_answers_of_resolved_tickets() -> Any:
    """The replies the desk offers as past answers (and turns into articles)."""
    return Reply.objects.sent().filter(kind=ReplyKind.ANSWER, ticket__state=TicketState.RESOLVED)


def insertion_text(article: Article, mode: str, passage: str) -> str:
    """What a click on an article puts into the draft."""
    if mode == InsertionMode.LINK:
        return f"{article.title}: {article.public_url}"
    return passage


@transaction.atomic
def insert_into_draft(
    ticket: Ticket,
    *,
    actor: Any,
    mode: str,
    article: Article | None = None,
    answer: Reply | None = None,
    mention: Any = None,
) -> tuple[ArticleUse, str]:
    """One click in the composer of an open ticket: a link to a published article, its
    passage that best matches the mention answered, or a past answer. Records the insertion
    (counted once the reply is sent) and returns it with the text to insert.

    Refuses NotAllowedForRole (not a person who drafts replies), InvalidTransition (closed
    ticket), InvalidArgument (not a published article, not a past answer, link without a
    public page).
    """
    if not access.may_draft_replies(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads write replies."))
    if ticket.state not in OPEN_STATES:
        raise InvalidTransition(_("Replies are written on open tickets only."))
    if answer is not None:
        if not sent_answers_of_resolved_tickets().filter(pk=answer.pk).exists():
            raise InvalidArgument(
                _("Only answers of resolved tickets are offered."), field="answer"
            )
        use = knowledge_actions.record_insertion(
            actor=actor, ticket_id=ticket.pk, mode=InsertionMode.ANSWER, source_reply_id=answer.pk
        )
        return use, answer.text
    if article is None:
        raise InvalidArgument(_("Insert an article or an answer."), field="article")
    use = knowledge_actions.record_insertion(
        actor=actor, ticket_id=ticket.pk, mode=mode, article=article
    )
    passage = ""
    if mode == InsertionMode.QUOTE:
        mention = answered_mention(ticket, mention)
        query = build_query(mention.text if mention is not None else article.title)
        passage = best_passages([article.pk], query).get(article.pk, "") or article.plain_body
    return use, insertion_text(article, mode, passage)


@transaction.atomic
def article_from_answer(
    answer: Reply,
    *,
    actor: Any,
    language: str,
    title: str,
    body: str,
    tags: Iterable[str] = (),
    product: str = "",
    department: str = DESK_WIDE,
    public_url: str = "",
) -> Article | ArticleProposal:
    """An answer that worked becomes an article in one step: published at once by a writer
    of the chosen department, otherwise proposed to that department (four eyes). Refuses
    InvalidArgument for a reply that is not a sent answer of a resolved ticket."""
    if not sent_answers_of_resolved_tickets().filter(pk=answer.pk).exists():
        raise InvalidArgument(
            _("Only a sent answer of a resolved ticket becomes an article."), field="answer"
        )
    departments = access.knowledge_departments(actor)
    content = {
        "language": language,
        "title": title,
        "body": body,
        "tags": tags,
        "product": product,
        "department": department,
        "public_url": public_url,
    }
    if writes_every_article(actor) or department in departments.own:
        return knowledge_actions.create_article(
            actor=actor,
            departments=departments,
            status=ArticleStatus.PUBLISHED,
            source_reply_id=answer.pk,
            note=_("From the answer on ticket #%(ticket)s") % {"ticket": answer.ticket_id},
            **content,
        )
    return propose_new_article(
        actor=actor,
        source_reply_id=answer.pk,
        comment=_("From the answer on ticket #%(ticket)s") % {"ticket": answer.ticket_id},
        **content,
    )


# --------------------------------------------------------------------------- topics


@transaction.atomic
def set_article_topics(article: Article, *, actor: Any, topics: Iterable[Topic]) -> Article:
    """The repeated-demand topics that link to this article (team leads); replaces the list."""
    if not (roles.is_team_lead(actor) or getattr(actor, "is_superuser", False)):
        raise NotAllowedForRole(_("Only team leads link topics to articles."))
    Article.objects.select_for_update().filter(pk=article.pk).first()
    article.topics.set(list(topics))
    return article


# --------------------------------------------------------------------------- expiry


def flag_expired_articles(*, now: datetime) -> int:
    """Beat (hourly): flag published articles past their valid-until date and tell their
    owners (the department's experts, team leads for desk-wide articles), once per date."""
    with transaction.atomic():
        flagged = knowledge_actions.flag_expired_articles(actor=None, now=now)
        for article in flagged:
            notify(
                owners_of(article.department),
                NotificationKind.ARTICLE_EXPIRED,
                at=now,
                text=lambda article=article: (
                    _("The article “%(title)s” was valid until %(date)s: check and update it.")
                    % {"title": article.title, "date": _date(article.valid_until)}
                ),
                dedupe_key=f"article-expired:{article.pk}:{article.valid_until}",
                article=article.pk,
            )
    return len(flagged)


def _date(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else ""


def department_choices() -> list[tuple[str, str]]:
    """Owner departments to choose from: the whole desk, then every department."""
    return [(DESK_WIDE, _("Whole desk (team leads)"))] + list(
        Department.objects.order_by("name").values_list("slug", "name")
    )
