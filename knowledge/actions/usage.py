"""What became of the articles: insertions into reply drafts and their outcome (sent, case
resolved), the search log, the flagging of expired articles and the guideline articles."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guidelines.defaults import DEFAULT_GUIDELINES
from knowledge.actions.articles import desk_today, index_article, record_version
from knowledge.choices import GUIDELINES_TAG, ArticleStatus, InsertionMode
from knowledge.markdown import plain_text
from knowledge.models import Article, ArticleUse, SearchLog
from knowledge.search import QUERY_MAX_LENGTH
from servicedesk.errors import InvalidArgument


@transaction.atomic
def record_insertion(
    *,
    actor: Any,
    ticket_id: int,
    mode: str,
    article: Article | None = None,
    source_reply_id: int | None = None,
) -> ArticleUse:
    """One click inserted a link to a published article, a passage of it, or a past answer
    (`source_reply_id`) into the draft of a reply on ticket `ticket_id`. The caller checks
    that the person may draft replies on that ticket."""
    if mode not in InsertionMode.values:
        raise InvalidArgument(_("Unknown insertion."), field="mode")
    if (article is None) == (source_reply_id is None):
        raise InvalidArgument(_("Insert an article or an answer."), field="article")
    if article is not None:
        if article.status != ArticleStatus.PUBLISHED:
            raise InvalidArgument(_("Only published articles are inserted."), field="article")
        if mode == InsertionMode.ANSWER:
            raise InvalidArgument(_("Unknown insertion."), field="mode")
        if mode == InsertionMode.LINK and not article.public_url:
            raise InvalidArgument(_("This article has no public page to link to."), field="mode")
    elif mode != InsertionMode.ANSWER:
        raise InvalidArgument(_("Unknown insertion."), field="mode")
    return ArticleUse.objects.create(
        article=article,
        source_reply_id=source_reply_id,
        mode=mode,
        ticket_id=ticket_id,
        inserted_by=actor,
        inserted_at=timezone.now(),
    )


@transaction.atomic
def attach_insertions(use_ids: Iterable[int], *, actor: Any, ticket_id: int, reply_id: int) -> int:
    """The draft saved as reply `reply_id` holds these insertions (the composer sends their
    ids). Refuses InvalidArgument for an insertion that is not the actor's on this ticket or
    belongs to another reply already."""
    ids = sorted(set(use_ids))
    if not ids:
        return 0
    uses = ArticleUse.objects.select_for_update().filter(
        pk__in=ids, ticket_id=ticket_id, inserted_by=actor, reply_id__isnull=True
    )
    if len(uses) != len(ids):
        raise InvalidArgument(
            _("An insertion from the information centre does not belong to this draft."),
            field="knowledge_uses",
        )
    return ArticleUse.objects.filter(pk__in=ids).update(reply_id=reply_id)


@transaction.atomic
def record_reply_sent(reply_id: int, *, actor: Any, at: datetime) -> int:
    """Reply `reply_id` went out (called in the transaction that records it sent): its
    insertions count as used in a sent reply."""
    return ArticleUse.objects.filter(reply_id=reply_id, sent_at__isnull=True).update(sent_at=at)


@transaction.atomic
def record_case_outcome(ticket_id: int, *, actor: Any, resolved_at: datetime | None) -> int:
    """Ticket `ticket_id` was resolved (`resolved_at`) or left the resolved state again
    (None, e.g. reopened): the insertions saved in its replies count towards the resolved
    cases of their articles, or no longer."""
    return ArticleUse.objects.filter(ticket_id=ticket_id, reply_id__isnull=False).update(
        resolved_at=resolved_at
    )


# --------------------------------------------------------------------------- search log


def normalise_query(text: str) -> str:
    return " ".join((text or "").lower().split())[:QUERY_MAX_LENGTH]


@transaction.atomic
def record_search(
    *,
    actor: Any,
    query: str,
    result_count: int,
    language: str = "",
    filters: dict[str, Any] | None = None,
) -> SearchLog | None:
    """Log a search a person ran (blank searches are not logged)."""
    normalised = normalise_query(query)
    if not normalised:
        return None
    return SearchLog.objects.create(
        query=(query or "").strip()[:QUERY_MAX_LENGTH],
        normalised_query=normalised,
        language=language or "",
        filters={key: value for key, value in (filters or {}).items() if value},
        result_count=result_count,
        searched_by=actor,
        searched_at=timezone.now(),
    )


# --------------------------------------------------------------------------- expiry

EXPIRY_BATCH_SIZE = 500  # articles flagged per statement


@transaction.atomic
def flag_expired_articles(*, actor: Any, now: datetime) -> list[Article]:
    """Flag every published article whose valid-until date has passed and whose owner was
    not told yet; returns them so the caller tells the owners. Safe to run concurrently:
    rows are claimed with SKIP LOCKED and flagged once (`expiry_flagged_at`)."""
    today = desk_today(now)
    flagged: list[Article] = []
    while True:
        batch = list(
            Article.objects.expired_unflagged(today)
            .exclude(pk__in=[article.pk for article in flagged])
            .select_for_update(skip_locked=True)
            .order_by("valid_until", "id")[:EXPIRY_BATCH_SIZE]
        )
        if not batch:
            return flagged
        Article.objects.filter(pk__in=[article.pk for article in batch]).update(
            expiry_flagged_at=now
        )
        for article in batch:
            article.expiry_flagged_at = now
        flagged.extend(batch)


# --------------------------------------------------------------------------- guidelines


def guideline_markdown(text: str) -> tuple[str, str]:
    """The guidelines page's text (first paragraph its title, a blank line between rules)
    as an article: the title and a Markdown list of the rules."""
    paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
    title, rules = paragraphs[0], paragraphs[1:]
    return title, "\n".join(f"- {rule}" for rule in rules) + "\n"


@transaction.atomic
def install_guideline_articles(*, actor: Any) -> int:
    """The staff's social media guidelines as published, desk-wide articles tagged
    `guidelines` (German, with its English translation), unless guideline articles exist.
    Idempotent; returns the number of articles created."""
    if Article.objects.filter(tags__contains=[GUIDELINES_TAG]).exists():
        return 0
    now = timezone.now()
    root = None
    created = 0
    languages = sorted(DEFAULT_GUIDELINES, key=lambda code: code != settings.LANGUAGE_CODE)
    for language in languages:
        title, body = guideline_markdown(DEFAULT_GUIDELINES[language])
        article = Article(
            language=language,
            title=title,
            body=body,
            plain_body=plain_text(body),
            tags=[GUIDELINES_TAG],
            translation_of=root,
            created_by=actor,
            created_at=now,
            updated_by=actor,
            updated_at=now,
        )
        article.publish(at=now)
        article.save()
        index_article(article)
        record_version(article, actor=actor, at=now, changed_fields=("created",))
        root = root or article
        created += 1
    return created
