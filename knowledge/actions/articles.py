"""Articles: language versions, content, status and version history, the search index.

Who may write is knowledge.access's; the caller passes `departments` (a `Departments`: the
slugs that exist and the person's own), since the knowledge app knows no departments. Every
action owns its transaction and its row locks, saves only what it changed and records a
version for every change of an article.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from knowledge import access
from knowledge.access import Departments
from knowledge.choices import (
    ARTICLE_LANGUAGES,
    DESK_WIDE,
    SEARCH_CONFIGS,
    ArticleStatus,
)
from knowledge.markdown import plain_text
from knowledge.models import Article, ArticleProposal, ArticleVersion
from knowledge.search import index_words
from servicedesk.errors import DomainError, InvalidArgument, NotAllowedForRole

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 50_000  # characters of Markdown
TAG_MAX_LENGTH = 50
TAGS_MAX = 20
PRODUCT_MAX_LENGTH = 100
# The fields a person edits; a version records which of them a change touched.
CONTENT_FIELDS = (
    "title",
    "body",
    "tags",
    "product",
    "department",
    "public_url",
    "valid_until",
)
STATUS_TRANSITIONS = {
    ArticleStatus.PUBLISHED: "publish",
    ArticleStatus.ARCHIVED: "archive",
    ArticleStatus.DRAFT: "return_to_draft",
}


class ArticleChanged(DomainError):
    code = "conflict"
    status = 409
    default_detail = gettext_lazy(
        "Someone else changed this article in the meantime. Reload it and try again."
    )


class SelfReviewNotAllowed(DomainError):
    code = "self_review"
    status = 403
    default_detail = gettext_lazy("Nobody reviews their own proposal (four-eyes principle).")


class ProposalOutdated(DomainError):
    code = "proposal_outdated"
    status = 409
    default_detail = gettext_lazy(
        "The article changed after this proposal was written; reject it and ask for a new "
        "proposal on the current text."
    )


class ArticleStatusNotAllowed(DomainError):
    code = "invalid_transition"
    status = 409
    default_detail = gettext_lazy("The article cannot move to this status from its current one.")


# --------------------------------------------------------------------------- input


def desk_today(now: datetime) -> date:
    """The desk's calendar day at `now` (valid-until dates are desk days)."""
    return timezone.localtime(now, timezone.get_default_timezone()).date()


def required_text(value: str, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidArgument(_("This field is required."), field=field)
    if len(value) > max_length:
        raise InvalidArgument(
            _("At most %(count)d characters.") % {"count": max_length}, field=field
        )
    return value


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Lower case, inner spaces as hyphens, no duplicates, in the given order."""
    normalised: dict[str, None] = {}
    for tag in tags or ():
        if not isinstance(tag, str):
            raise InvalidArgument(_("Tags are words."), field="tags")
        value = "-".join(tag.strip().lower().lstrip("#").split())
        if not value:
            continue
        if len(value) > TAG_MAX_LENGTH:
            raise InvalidArgument(
                _("A tag has at most %(count)d characters.") % {"count": TAG_MAX_LENGTH},
                field="tags",
            )
        normalised.setdefault(value, None)
    if len(normalised) > TAGS_MAX:
        raise InvalidArgument(_("At most %(count)d tags.") % {"count": TAGS_MAX}, field="tags")
    return list(normalised)


def checked_language(language: str) -> str:
    if language not in dict(ARTICLE_LANGUAGES):
        raise InvalidArgument(_("Unknown language."), field="language")
    return language


def checked_department(department: str, departments: Departments) -> str:
    department = (department or "").strip()
    if department != DESK_WIDE and department not in departments.known:
        raise InvalidArgument(_("Unknown department."), field="department")
    return department


def checked_content(
    *,
    title: str,
    body: str,
    tags: Iterable[str],
    product: str,
    department: str,
    public_url: str,
    valid_until: date | None,
) -> dict[str, Any]:
    """The editable fields, checked and normalised (the department is checked apart: a
    proposal keeps its article's)."""
    product = (product or "").strip()
    if len(product) > PRODUCT_MAX_LENGTH:
        raise InvalidArgument(
            _("At most %(count)d characters.") % {"count": PRODUCT_MAX_LENGTH}, field="product"
        )
    public_url = (public_url or "").strip()
    if public_url and not public_url.startswith(("https://", "http://")):
        raise InvalidArgument(_("A public page is an http(s) address."), field="public_url")
    return {
        "title": required_text(title, "title", TITLE_MAX_LENGTH),
        "body": required_text(body, "body", BODY_MAX_LENGTH),
        "tags": normalise_tags(tags),
        "product": product,
        "department": department,
        "public_url": public_url,
        "valid_until": valid_until,
    }


def _ensure_may_write(actor: Any, department: str, departments: Departments) -> None:
    if not access.may_write(actor, department, departments=departments.own):
        raise NotAllowedForRole(
            _("Only team leads and the owner department's experts write this article.")
        )


# --------------------------------------------------------------------------- index


_INDEX_SQL = """
UPDATE knowledge_article SET
       search_vector = setweight(to_tsvector(config, title), 'A')
           || setweight(to_tsvector(config, array_to_string(tags, ' ') || ' ' || product), 'B')
           || setweight(to_tsvector(config, plain_body), 'D'),
       title_vector = setweight(to_tsvector(config, title), 'A')
           || setweight(to_tsvector(config, array_to_string(tags, ' ') || ' ' || product), 'B')
  FROM (SELECT CASE %(language)s WHEN 'en' THEN 'english'::regconfig
                                 ELSE 'german'::regconfig END AS config) AS chosen
 WHERE id = %(id)s
"""

_WORDS_SQL = """
INSERT INTO knowledge_searchword (language, word, lexeme)
SELECT %(language)s, word, (tsvector_to_array(to_tsvector(%(config)s::regconfig, word)))[1]
  FROM unnest(%(words)s::text[]) AS word
 WHERE tsvector_to_array(to_tsvector(%(config)s::regconfig, word)) <> '{}'
ON CONFLICT (language, word) DO NOTHING
"""


def index_article(article: Article) -> None:
    """Refresh the article's search vector and add its words to the word list."""
    with connection.cursor() as cursor:
        cursor.execute(_INDEX_SQL, {"language": article.language, "id": article.pk})
        cursor.execute(
            _WORDS_SQL,
            {
                "language": article.language,
                "config": SEARCH_CONFIGS[article.language],
                "words": index_words(
                    article.title, " ".join(article.tags), article.product, article.plain_body
                ),
            },
        )


def record_version(
    article: Article,
    *,
    actor: Any,
    at: datetime,
    changed_fields: Iterable[str],
    note: str = "",
    proposal: ArticleProposal | None = None,
) -> ArticleVersion:
    """The article as it is now, as version `article.version`."""
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        tags=list(article.tags),
        product=article.product,
        department=article.department,
        public_url=article.public_url,
        valid_until=article.valid_until,
        status=article.status,
        changed_fields=list(changed_fields),
        changed_by=actor,
        changed_at=at,
        proposal=proposal,
        note=note[:500],
    )


def lock_article(article: Article, *, expected_version: int | None = None) -> Article:
    """Re-read the article with a row lock; ArticleChanged if it moved on since the caller
    read it (`expected_version`, or the version the caller's object has)."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    expected = expected_version if expected_version is not None else article.version
    if locked.version != expected:
        raise ArticleChanged(expected=expected, actual=locked.version)
    return locked


# --------------------------------------------------------------------------- articles


@transaction.atomic
def create_article(
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
    valid_until: date | None = None,
    status: str = ArticleStatus.DRAFT,
    translation_of: Article | None = None,
    source_reply_id: int | None = None,
    note: str = "",
) -> Article:
    """A new article (or a further language version of one, `translation_of`), as a draft or
    published at once. A language version belongs to the same owner department as the
    article; product, public page and valid-until date are taken from it when not given.

    Refuses NotAllowedForRole (not a writer of that department), InvalidArgument (bad input,
    a language the article already has, archived as a start). Records version 1.
    """
    now = timezone.now()
    language = checked_language(language)
    root = None
    if translation_of is not None:
        root = Article.objects.get(pk=translation_of.root_id)
        department = root.department
        product = product or root.product
        public_url = public_url or root.public_url
        valid_until = valid_until or root.valid_until
        if Article.objects.of_family(root).filter(language=language).exists():
            raise InvalidArgument(
                _("This article already has a version in this language."), field="language"
            )
    content = checked_content(
        title=title,
        body=body,
        tags=tags,
        product=product,
        department=department,
        public_url=public_url,
        valid_until=valid_until,
    )
    content["department"] = checked_department(department, departments)
    _ensure_may_write(actor, content["department"], departments)
    if status not in (ArticleStatus.DRAFT, ArticleStatus.PUBLISHED):
        raise InvalidArgument(_("A new article is a draft or published."), field="status")
    article = Article(
        language=language,
        translation_of=root,
        plain_body=plain_text(content["body"]),
        created_by=actor,
        created_at=now,
        updated_by=actor,
        updated_at=now,
        source_reply_id=source_reply_id,
        **content,
    )
    if status == ArticleStatus.PUBLISHED:
        article.publish(at=now)
    article.save()
    index_article(article)
    record_version(
        article, actor=actor, at=now, changed_fields=("created",), note=note or _("Created")
    )
    return article


@transaction.atomic
def edit_article(
    article: Article,
    *,
    actor: Any,
    departments: Departments,
    title: str,
    body: str,
    tags: Iterable[str],
    product: str,
    department: str,
    public_url: str,
    valid_until: date | None,
    expected_version: int | None = None,
    note: str = "",
) -> Article:
    """Replace an article's content. A writer moves an article only between departments he
    writes for; its language versions move with it. A moved valid-until date is flagged
    again once it passes.

    Refuses NotAllowedForRole, InvalidArgument, ArticleChanged (someone saved in between).
    Records a version naming the changed fields (none: nothing is written).
    """
    now = timezone.now()
    _ensure_may_write(actor, article.department, departments)
    content = checked_content(
        title=title,
        body=body,
        tags=tags,
        product=product,
        department=department,
        public_url=public_url,
        valid_until=valid_until,
    )
    content["department"] = checked_department(department, departments)
    _ensure_may_write(actor, content["department"], departments)
    article = lock_article(article, expected_version=expected_version)
    changed = [name for name in CONTENT_FIELDS if getattr(article, name) != content[name]]
    if not changed:
        return article
    for name in changed:
        setattr(article, name, content[name])
    fields = [*changed, "version", "updated_by", "updated_at"]
    if "body" in changed:
        article.plain_body = plain_text(article.body)
        fields.append("plain_body")
    if "valid_until" in changed:
        article.expiry_flagged_at = None
        fields.append("expiry_flagged_at")
    article.version += 1
    article.updated_by = actor
    article.updated_at = now
    article.save(update_fields=fields)
    if "department" in changed:
        Article.objects.of_family(article).exclude(pk=article.pk).update(
            department=article.department
        )
    index_article(article)
    record_version(article, actor=actor, at=now, changed_fields=changed, note=note)
    return article


@transaction.atomic
def change_article_status(
    article: Article,
    *,
    actor: Any,
    departments: Departments,
    status: str,
    expected_version: int | None = None,
) -> Article:
    """Publish, archive or return an article to draft. Refuses NotAllowedForRole,
    ArticleStatusNotAllowed (not from its current status), ArticleChanged. A version records
    the change; the same status again changes nothing."""
    now = timezone.now()
    if status not in STATUS_TRANSITIONS:
        raise InvalidArgument(_("Unknown status."), field="status")
    _ensure_may_write(actor, article.department, departments)
    article = lock_article(article, expected_version=expected_version)
    if article.status == status:
        return article
    method = getattr(article, STATUS_TRANSITIONS[status])
    if not can_proceed(method):
        raise ArticleStatusNotAllowed(status=status)
    if status == ArticleStatus.PUBLISHED:
        method(at=now)
    else:
        method()
    article.version += 1
    article.updated_by = actor
    article.updated_at = now
    try:
        article.save(
            update_fields=["status", "published_at", "version", "updated_by", "updated_at"]
        )
    except ConcurrentTransition as error:
        raise ArticleChanged() from error
    record_version(article, actor=actor, at=now, changed_fields=("status",))
    return article
