"""Django admin of the information centre: read-only. Articles, their versions and proposals
are written through knowledge.actions (the information centre's pages and API), which check
who may write and keep the search index and the version history."""

from django.contrib import admin

from knowledge.models import Article, ArticleProposal, ArticleVersion, SearchLog
from servicedesk.admin import ReadOnlyAdmin, ReadOnlyTabularInline


class ArticleVersionInline(ReadOnlyTabularInline):
    model = ArticleVersion
    fields = ("number", "title", "status", "changed_fields", "changed_by", "changed_at", "note")


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "language",
        "status",
        "department",
        "product",
        "valid_until",
        "version",
    )
    list_filter = ("status", "language", "department")
    search_fields = ("title", "product", "tags")
    list_select_related = ("updated_by",)
    exclude = ("search_vector",)
    inlines = [ArticleVersionInline]


@admin.register(ArticleProposal)
class ArticleProposalAdmin(ReadOnlyAdmin):
    list_display = ("pk", "title", "department", "status", "proposed_by", "proposed_at")
    list_filter = ("status", "department")
    list_select_related = ("proposed_by",)


@admin.register(SearchLog)
class SearchLogAdmin(ReadOnlyAdmin):
    list_display = ("query", "result_count", "language", "searched_by", "searched_at")
    list_filter = ("language",)
    search_fields = ("query",)
    list_select_related = ("searched_by",)
