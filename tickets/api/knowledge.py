"""The information centre's API (DESIGN §6 rules): `GET /api/v1/articles/?q=&tag=&language=
&product=&department=&status=` (ranked, with score, highlighted snippet and matched terms
when `q` is given), `GET /api/v1/articles/{id}/`, and for writers `POST` (one language
version; a further language with `"translation_of": <id>`) and `PATCH` (content, `status`,
`version` as the expected version: 409 if someone saved in between). Thin: knowledge.actions
decides and refuses (403 not a writer of that department, 409 conflicts, 400 bad input).
Suggestions for a ticket are `GET /api/v1/tickets/{id}/suggestions/` (tickets.api.views).
"""

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from knowledge import actions as knowledge_actions
from knowledge import search
from knowledge.access import Departments, may_read_articles
from knowledge.choices import ARTICLE_LANGUAGES, ArticleStatus
from knowledge.filters import ArticleFilter
from knowledge.markdown import render_markdown
from knowledge.models import Article
from servicedesk import roles
from servicedesk.api_input import StrictInput
from servicedesk.errors import NotAllowedForRole
from tickets import access

ID_PATTERN = r"[0-9]{1,19}"


class LanguageVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    language = serializers.CharField()


class UsageSerializer(serializers.Serializer):
    sent_replies = serializers.IntegerField()
    resolved_cases = serializers.IntegerField()


class ArticleSerializer(serializers.ModelSerializer):
    """One language version. `score`, `snippet` (HTML with <mark>) and `matched_terms` are
    set when the list was searched (`q`)."""

    body_html = serializers.SerializerMethodField()
    public_url = serializers.CharField(read_only=True, help_text="An http(s) address, or empty.")
    is_expired = serializers.SerializerMethodField()
    language_versions = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    updated_by = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()
    snippet = serializers.SerializerMethodField()
    matched_terms = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "language",
            "title",
            "body",
            "body_html",
            "tags",
            "product",
            "department",
            "public_url",
            "valid_until",
            "is_expired",
            "status",
            "version",
            "translation_of",
            "language_versions",
            "usage",
            "created_at",
            "updated_at",
            "updated_by",
            "url",
            "score",
            "snippet",
            "matched_terms",
        ]
        read_only_fields = fields

    def get_body_html(self, article: Article) -> str:
        return str(render_markdown(article.body))

    def get_is_expired(self, article: Article) -> bool:
        return article.is_expired(self.context["today"])

    @extend_schema_field(LanguageVersionSerializer(many=True))
    def get_language_versions(self, article: Article) -> list[dict[str, Any]]:
        return [
            version
            for version in self.context["families"].get(article.root_id, [])
            if version["id"] != article.pk
        ]

    @extend_schema_field(UsageSerializer)
    def get_usage(self, article: Article) -> dict[str, int]:
        return self.context["usage"].get(article.pk, {"sent_replies": 0, "resolved_cases": 0})

    def get_updated_by(self, article: Article) -> str | None:
        return article.updated_by.get_username() if article.updated_by else None

    def get_url(self, article: Article) -> str:
        return reverse("tickets:knowledge_article", args=[article.pk])

    def get_score(self, article: Article) -> float | None:
        score = getattr(article, "score", None)
        return round(float(score), 4) if score is not None else None

    def get_snippet(self, article: Article) -> str | None:
        snippet = getattr(article, "snippet", None)
        return str(snippet) if snippet is not None else None

    def get_matched_terms(self, article: Article) -> list[str] | None:
        return getattr(article, "matched_terms", None)


class ArticleInput(StrictInput):
    """A new language version (POST)."""

    title = serializers.CharField(max_length=knowledge_actions.TITLE_MAX_LENGTH)
    body = serializers.CharField(max_length=knowledge_actions.BODY_MAX_LENGTH)
    language = serializers.ChoiceField(choices=ARTICLE_LANGUAGES)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=knowledge_actions.TAG_MAX_LENGTH),
        required=False,
        max_length=knowledge_actions.TAGS_MAX,
    )
    status = serializers.ChoiceField(
        choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )  # draft or published: a new article is never archived (400)
    translation_of = serializers.IntegerField(required=False, min_value=1)
    product = serializers.CharField(
        max_length=knowledge_actions.PRODUCT_MAX_LENGTH, required=False, allow_blank=True
    )
    department = serializers.CharField(max_length=64, required=False, allow_blank=True)
    public_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False, allow_null=True)


class ArticlePatchInput(StrictInput):
    """Changes to one language version (PATCH): any of the content fields, `status`, and
    `version`, the version the client read (409 if the article moved on)."""

    title = serializers.CharField(max_length=knowledge_actions.TITLE_MAX_LENGTH, required=False)
    body = serializers.CharField(max_length=knowledge_actions.BODY_MAX_LENGTH, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=knowledge_actions.TAG_MAX_LENGTH),
        required=False,
        max_length=knowledge_actions.TAGS_MAX,
    )
    product = serializers.CharField(
        max_length=knowledge_actions.PRODUCT_MAX_LENGTH, required=False, allow_blank=True
    )
    department = serializers.CharField(max_length=64, required=False, allow_blank=True)
    public_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ArticleStatus.choices, required=False)
    version = serializers.IntegerField(required=False, min_value=1)


CONTENT_INPUTS = ("title", "body", "tags", "product", "department", "public_url", "valid_until")


def page_context(articles: list[Article], *, today: Any) -> dict[str, Any]:
    """The language versions and usage of a page of articles: two queries."""
    ids = [article.pk for article in articles]
    roots = {article.root_id for article in articles}
    families: dict[int, list[dict[str, Any]]] = {}
    for row in (
        Article.objects.filter(Q(pk__in=roots) | Q(translation_of__in=roots))
        .order_by("language")
        .values("pk", "language", "translation_of_id")
    ):
        families.setdefault(row["translation_of_id"] or row["pk"], []).append(
            {"id": row["pk"], "language": row["language"]}
        )
    usage = {
        row["pk"]: {"sent_replies": row["sent_replies"], "resolved_cases": row["resolved_cases"]}
        for row in Article.objects.filter(pk__in=ids)
        .with_usage()
        .values("pk", "sent_replies", "resolved_cases")
    }
    return {"families": families, "usage": usage, "today": today}


SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="Search words (German/English stemming, typos)"),
]


@extend_schema_view(
    list=extend_schema(summary="Articles the caller may read", parameters=SEARCH_PARAMETERS),
    retrieve=extend_schema(summary="One language version of an article"),
    create=extend_schema(
        request=ArticleInput,
        responses={201: ArticleSerializer},
        summary="Write an article or a further language version (writers)",
    ),
    partial_update=extend_schema(
        request=ArticlePatchInput,
        responses={200: ArticleSerializer},
        summary="Change an article's content or status (writers)",
    ),
)
class ArticleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ArticleSerializer
    filterset_class = ArticleFilter
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "head", "options"]

    def departments(self) -> Departments:
        cached = getattr(self, "_departments", None)
        if cached is None:
            cached = access.knowledge_departments(self.request.user)
            self._departments = cached
        return cached

    def get_queryset(self) -> QuerySet[Article]:
        if getattr(self, "swagger_fake_view", False):
            return Article.objects.none()
        return (
            Article.objects.visible_to(self.request.user, departments=self.departments().own)
            .select_related("updated_by")
            .order_by("title", "id")
        )

    def filter_queryset(self, queryset: QuerySet[Article]) -> QuerySet[Article]:
        """The filters (published unless asked) narrow the list; one article is found by id
        among all the caller may see (a writer's draft too)."""
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def _render(self, articles: list[Article]) -> list[dict[str, Any]]:
        today = knowledge_actions.desk_today(timezone.now())
        context = {**self.get_serializer_context(), **page_context(articles, today=today)}
        return ArticleSerializer(articles, many=True, context=context).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        articles = self.filter_queryset(self.get_queryset())
        text = (request.query_params.get("q") or "").strip()[: search.QUERY_MAX_LENGTH]
        result = search.search(articles, text) if text else None
        if result is not None:
            articles = result.articles
        page = self.paginate_queryset(articles)
        rows = list(page if page is not None else articles)
        if result is not None:
            search.annotate_page(rows, result.query)
            if self.paginator.page.number == 1 and not roles.is_api_client(request.user):
                knowledge_actions.record_search(
                    actor=request.user,
                    query=text,
                    result_count=result.total,
                    language=request.query_params.get("language", ""),
                    filters={
                        key: request.query_params.get(key)
                        for key in ("tag", "product", "department", "status")
                    },
                )
        response = self.get_paginated_response(self._render(rows))
        if result is not None:
            # Matches are counted exactly up to MATCH_COUNT_LIMIT; the best are paged.
            response.data["count"] = result.total
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._render([self.get_object()])[0])

    def _answer(self, article: Article, code: int = status.HTTP_200_OK) -> Response:
        return Response(self._render([self.get_queryset().get(pk=article.pk)])[0], status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not may_read_articles(request.user) or roles.is_api_client(request.user):
            raise NotAllowedForRole()
        command = ArticleInput(data=request.data)
        command.is_valid(raise_exception=True)
        data = dict(command.validated_data)
        translation_of = None
        if data.get("translation_of"):
            translation_of = self.get_queryset().filter(pk=data.pop("translation_of")).first()
            if translation_of is None:
                raise serializers.ValidationError({"translation_of": ["No article has this id."]})
        article = knowledge_actions.create_article(
            actor=request.user,
            departments=self.departments(),
            translation_of=translation_of,
            **{key: value for key, value in data.items() if key != "translation_of"},
        )
        return self._answer(article, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        article = self.get_object()
        command = ArticlePatchInput(data=request.data)
        command.is_valid(raise_exception=True)
        data = command.validated_data
        expected = data.get("version")
        with transaction.atomic():
            if any(name in data for name in CONTENT_INPUTS):
                current = {name: getattr(article, name) for name in CONTENT_INPUTS}
                article = knowledge_actions.edit_article(
                    article,
                    actor=request.user,
                    departments=self.departments(),
                    expected_version=expected,
                    **{**current, **{name: data[name] for name in CONTENT_INPUTS if name in data}},
                )
                expected = article.version
            if "status" in data:
                article = knowledge_actions.change_article_status(
                    article,
                    actor=request.user,
                    departments=self.departments(),
                    status=data["status"],
                    expected_version=expected,
                )
        return self._answer(article)


# --------------------------------------------------------------------------- suggestions


class ArticleSuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.pk")
    title = serializers.CharField(source="article.title")
    language = serializers.CharField(source="article.language")
    public_url = serializers.CharField(source="article.public_url")
    url = serializers.SerializerMethodField()
    score = serializers.FloatField()
    matched_terms = serializers.ListField(child=serializers.CharField())
    passage = serializers.CharField()

    def get_url(self, item: Any) -> str:
        return reverse("tickets:knowledge_article", args=[item.article.pk])


class AnswerSuggestionSerializer(serializers.Serializer):
    reply = serializers.IntegerField(source="reply.pk")
    ticket = serializers.IntegerField(source="reply.ticket_id")
    text = serializers.CharField(source="reply.text")
    sent_at = serializers.DateTimeField(source="reply.sent_at")
    score = serializers.FloatField()
    matched_terms = serializers.ListField(child=serializers.CharField())


class SuggestionsSerializer(serializers.Serializer):
    """What the information centre offers for answering one mention of a ticket."""

    mention = serializers.IntegerField(source="mention_id", allow_null=True)
    articles = ArticleSuggestionSerializer(many=True)
    answers = AnswerSuggestionSerializer(many=True)
