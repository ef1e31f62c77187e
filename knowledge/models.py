"""The information centre: articles in language versions, their version history, proposed
changes (reviewed by the owner department: four eyes), what was inserted from them into reply
drafts, the word list that makes search typo- and compound-tolerant, and the search log.

The knowledge app knows no workflow: tickets and replies are referred to by their ids only
(`ticket_id`, `reply_id`), which the tickets app passes in and reads back.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from knowledge import access
from knowledge.choices import ARTICLE_LANGUAGES, ArticleStatus, InsertionMode, ProposalStatus


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> "ArticleQuerySet":
        return self.filter(status=ArticleStatus.PUBLISHED)

    def expired(self, today: date) -> "ArticleQuerySet":
        """Published articles whose valid-until date has passed (the day itself is valid)."""
        return self.published().filter(valid_until__lt=today)

    def expired_unflagged(self, today: date) -> "ArticleQuerySet":
        """Expired articles whose owner has not been told yet (the flagging sweep's work)."""
        return self.expired(today).filter(expiry_flagged_at__isnull=True)

    def visible_to(self, user: Any, *, departments: frozenset[str]) -> "ArticleQuerySet":
        """Published articles for every reader; drafts and archived ones also for those who
        may write them (team leads all, an expert those of his departments)."""
        if not access.may_read_articles(user):
            return self.none()
        if access.writes_every_article(user):
            return self.all()
        if access.is_writer(user, departments=departments):
            return self.filter(
                Q(status=ArticleStatus.PUBLISHED) | Q(department__in=sorted(departments))
            )
        return self.published()

    def with_usage(self) -> "ArticleQuerySet":
        """Annotated with `sent_replies` (distinct sent replies an insertion went out in) and
        `resolved_cases` (distinct resolved tickets of those replies)."""
        return self.annotate(
            sent_replies=models.Count(
                "uses__reply_id", distinct=True, filter=Q(uses__sent_at__isnull=False)
            ),
            resolved_cases=models.Count(
                "uses__ticket_id",
                distinct=True,
                filter=Q(uses__sent_at__isnull=False, uses__resolved_at__isnull=False),
            ),
        )

    def of_family(self, article: "Article") -> "ArticleQuerySet":
        """The article and its translations (every language version of one article)."""
        root = article.translation_of_id or article.pk
        return self.filter(Q(pk=root) | Q(translation_of_id=root))


class Article(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """One language version of an article. Versions of one article in other languages point to
    the first one (`translation_of`, always the root: a translation of a translation is
    linked to the root).

    Written only by knowledge.actions, which also keeps `search_vector` and `plain_body` (the
    Markdown as text) and records every change as an `ArticleVersion`. `status` changes only
    through the transitions below.
    """

    language = models.CharField(_("language"), max_length=8, choices=ARTICLE_LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    plain_body = models.TextField(blank=True)  # the rendered Markdown as text: search, quotes
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    product = models.CharField(_("product or topic"), max_length=100, blank=True)
    department = models.CharField(_("owner department"), max_length=64, blank=True)
    public_url = models.URLField(_("public page"), max_length=500, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = FSMField(
        _("status"), choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, protected=True
    )
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="translations",
        verbose_name=_("translation of"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # null: the system (the defaults a migration installs)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Set when the owner was told that the article is past its valid-until date; cleared
    # when the date is moved (a new date is flagged again once it passes).
    expiry_flagged_at = models.DateTimeField(null=True, blank=True)
    source_reply_id = models.BigIntegerField(null=True, blank=True)  # made from this answer
    search_vector = SearchVectorField(null=True)  # title A, tags and product B, text D
    title_vector = SearchVectorField(null=True)  # title, tags and product only (candidates)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title", "id"]
        indexes = [
            # One GIN index per language and vector: a search asks for `language = 'de'
            # AND search_vector @@ …` (each language its own stems), which a partial index
            # answers alone; with one index for all, PostgreSQL ANDs the bitmap of the
            # language's 80,000 rows to it (three quarters of a search's time at 100,000).
            *(
                GinIndex(
                    fields=[vector],
                    condition=models.Q(language=language),
                    name=f"article_{name}_{language}",
                )
                for vector, name in (("search_vector", "search"), ("title_vector", "title"))
                for language in ("de", "en")
            ),
            GinIndex(fields=["tags"], name="article_tags"),
            # Browsing (no search words): the published articles by title.
            models.Index(fields=["title", "id"], name="article_browse"),
            models.Index(fields=["department", "status"], name="article_department"),
            models.Index(fields=["product"], name="article_product"),
            # The flagging sweep: published articles not yet flagged, by valid-until date.
            models.Index(
                fields=["valid_until"],
                name="article_expiry_due",
                condition=Q(status=ArticleStatus.PUBLISHED, expiry_flagged_at__isnull=True),
            ),
        ]
        constraints = [
            # One version per language of one article (the root and its translations).
            models.UniqueConstraint(
                Coalesce(F("translation_of"), F("id")),
                F("language"),
                name="article_one_per_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"

    @property
    def root_id(self) -> int:
        return self.translation_of_id or self.pk

    def is_expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    # ---- transitions (in memory only; knowledge.actions saves and records the version)

    @transition(
        field=status,
        source=[ArticleStatus.DRAFT, ArticleStatus.ARCHIVED],
        target=ArticleStatus.PUBLISHED,
    )
    def publish(self, *, at: Any) -> None:
        self.published_at = at

    @transition(
        field=status,
        source=[ArticleStatus.DRAFT, ArticleStatus.PUBLISHED],
        target=ArticleStatus.ARCHIVED,
    )
    def archive(self) -> None:
        pass

    @transition(
        field=status,
        source=[ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED],
        target=ArticleStatus.DRAFT,
    )
    def return_to_draft(self) -> None:
        pass


class ArticleVersion(models.Model):
    """One state of an article after a change: who changed what, when (and through which
    proposal). Append-only; version 1 is the article as it was created."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    product = models.CharField(_("product or topic"), max_length=100, blank=True)
    department = models.CharField(_("owner department"), max_length=64, blank=True)
    public_url = models.URLField(_("public page"), max_length=500, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ArticleStatus.choices)
    changed_fields = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"))
    proposal = models.ForeignKey(
        "ArticleProposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="articleversion_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleProposalQuerySet(models.QuerySet["ArticleProposal"]):
    def pending(self) -> "ArticleProposalQuerySet":
        return self.filter(status=ProposalStatus.PENDING)

    def for_departments(self, departments: frozenset[str]) -> "ArticleProposalQuerySet":
        """Proposals owned by these departments (the article's, or the new article's)."""
        return self.filter(department__in=departments)


class ArticleProposal(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A change to an article (or a new article, `article` empty until accepted) proposed by
    someone who may not write it. The owner department reviews it; never the proposer.

    `department` is the owner department the proposal goes to (the article's when it was
    proposed). `base_version` is the article version it was written against: a proposal is
    accepted only onto that version, so nobody's later change is silently overwritten.
    """

    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="proposals"
    )
    base_version = models.PositiveIntegerField(null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=ARTICLE_LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    product = models.CharField(_("product or topic"), max_length=100, blank=True)
    department = models.CharField(_("owner department"), max_length=64, blank=True)
    public_url = models.URLField(_("public page"), max_length=500, blank=True)
    comment = models.TextField(_("why"), blank=True)
    source_reply_id = models.BigIntegerField(null=True, blank=True)
    status = FSMField(
        _("status"),
        choices=ProposalStatus.choices,
        default=ProposalStatus.PENDING,
        protected=True,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    objects = ArticleProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("article proposal")
        verbose_name_plural = _("article proposals")
        ordering = ["-proposed_at", "-id"]
        indexes = [
            models.Index(
                fields=["department", "proposed_at"],
                name="proposal_review_queue",
                condition=Q(status=ProposalStatus.PENDING),
            )
        ]

    def __str__(self) -> str:
        return f"proposal #{self.pk}"

    @property
    def is_new_article(self) -> bool:
        return self.base_version is None

    @transition(field=status, source=ProposalStatus.PENDING, target=ProposalStatus.ACCEPTED)
    def accept(self, *, reviewer: Any, comment: str, at: Any) -> None:
        self.reviewed_by = reviewer
        self.reviewed_at = at
        self.review_comment = comment

    @transition(field=status, source=ProposalStatus.PENDING, target=ProposalStatus.REJECTED)
    def reject(self, *, reviewer: Any, comment: str, at: Any) -> None:
        self.reviewed_by = reviewer
        self.reviewed_at = at
        self.review_comment = comment

    @transition(field=status, source=ProposalStatus.PENDING, target=ProposalStatus.WITHDRAWN)
    def withdraw(self, *, at: Any) -> None:
        self.reviewed_at = at


class ArticleUseQuerySet(models.QuerySet["ArticleUse"]):
    def sent(self) -> "ArticleUseQuerySet":
        """Insertions whose reply went out."""
        return self.filter(sent_at__isnull=False)

    def in_resolved_cases(self) -> "ArticleUseQuerySet":
        """Insertions sent in a reply whose ticket is resolved now."""
        return self.sent().filter(resolved_at__isnull=False)


class ArticleUse(models.Model):
    """One click that inserted a link to an article, a passage of it, or a past answer into
    a reply draft. The tickets app reports what became of it: the draft it was saved with
    (`reply_id`), when that reply was sent (`sent_at`) and whether the case is resolved now
    (`resolved_at`, cleared when the case is reopened). That is the article's usefulness:
    used in N sent replies, in M resolved cases."""

    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="uses"
    )
    source_reply_id = models.BigIntegerField(null=True, blank=True)  # a past answer inserted
    mode = models.CharField(_("inserted as"), max_length=16, choices=InsertionMode.choices)
    ticket_id = models.BigIntegerField()
    reply_id = models.BigIntegerField(null=True, blank=True)
    inserted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    inserted_at = models.DateTimeField(_("inserted at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("case resolved at"), null=True, blank=True)

    objects = ArticleUseQuerySet.as_manager()

    class Meta:
        verbose_name = _("article use")
        verbose_name_plural = _("article uses")
        indexes = [
            models.Index(fields=["article", "sent_at"], name="articleuse_article_sent"),
            models.Index(fields=["sent_at"], name="articleuse_sent"),
            models.Index(fields=["ticket_id"], name="articleuse_ticket"),
            models.Index(fields=["reply_id"], name="articleuse_reply"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(article__isnull=False) | Q(source_reply_id__isnull=False),
                name="articleuse_has_source",
            )
        ]

    def __str__(self) -> str:
        return f"use #{self.pk}"


class SearchWord(models.Model):
    """A word that occurs in some article, with its stem (the lexeme the search vector holds).
    The search looks query words up here: by trigram similarity (typos) and as parts of
    compounds (`Rückerstattung` contains the known word `erstattung`). Kept by
    knowledge.actions whenever an article is saved; a word stays when its article changes
    (it then finds nothing, which costs nothing)."""

    language = models.CharField(max_length=8, choices=ARTICLE_LANGUAGES)
    word = models.CharField(max_length=64)
    lexeme = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["language", "word"], name="searchword_unique")
        ]
        indexes = [
            GistIndex(OpClass("word", name="gist_trgm_ops"), name="searchword_trigram"),
            # "Does any article hold this stem?" (a query word no article has is left out).
            models.Index(fields=["language", "lexeme"], name="searchword_lexeme"),
        ]

    def __str__(self) -> str:
        return self.word


class SearchLogQuerySet(models.QuerySet["SearchLog"]):
    def without_results(self) -> "SearchLogQuerySet":
        return self.filter(result_count=0)


class SearchLog(models.Model):
    """One search a person ran in the information centre, with how many articles it found.
    Searches that found nothing are the gaps in the knowledge (the dashboard lists them)."""

    query = models.CharField(_("search"), max_length=200)
    normalised_query = models.CharField(max_length=200)  # lower case, single spaces
    language = models.CharField(_("language"), max_length=8, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    result_count = models.PositiveIntegerField(_("results"))
    searched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    searched_at = models.DateTimeField(_("searched at"))

    objects = SearchLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("search")
        verbose_name_plural = _("searches")
        indexes = [
            models.Index(fields=["searched_at"], name="searchlog_time"),
            models.Index(
                fields=["searched_at"], name="searchlog_gaps", condition=Q(result_count=0)
            ),
        ]

    def __str__(self) -> str:
        return self.query
