"""The article filters, shared by the API (`GET /api/v1/articles/`) and the information
centre's page: tag, language, product or topic, owner department, status (published unless
another is asked for; unpublished ones only reach those who may see them)."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from knowledge.choices import ARTICLE_LANGUAGES, ArticleStatus
from knowledge.models import Article


class ArticleFilter(django_filters.FilterSet):
    tag = django_filters.CharFilter(method="filter_tag", max_length=50, label=_("Tag"))
    language = django_filters.ChoiceFilter(choices=ARTICLE_LANGUAGES)
    product = django_filters.CharFilter(field_name="product", lookup_expr="iexact", max_length=100)
    department = django_filters.CharFilter(
        method="filter_department", max_length=64, label=_("Owner department (slug)")
    )
    status = django_filters.ChoiceFilter(
        choices=ArticleStatus.choices,
        method="filter_status",
        label=_("Status (default: published)"),
    )

    class Meta:
        model = Article
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet[Article]:
        articles = super().qs
        if not (
            self.form.is_bound and self.form.is_valid() and self.form.cleaned_data.get("status")
        ):
            articles = articles.filter(status=ArticleStatus.PUBLISHED)
        return articles

    def filter_tag(self, queryset: QuerySet[Article], name: str, value: str) -> Any:
        value = "-".join(value.strip().lower().lstrip("#").split())
        return queryset.filter(tags__contains=[value]) if value else queryset

    def filter_department(self, queryset: QuerySet[Article], name: str, value: str) -> Any:
        return queryset.filter(department=value.strip()) if value.strip() else queryset

    def filter_status(self, queryset: QuerySet[Article], name: str, value: str) -> Any:
        return queryset.filter(status=value) if value else queryset
