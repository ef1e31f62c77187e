"""Django admin of triage: the rules are edited here by team leads and admins; suggestions are
shown read-only (they are written by triage.actions)."""

from django.contrib import admin

from servicedesk.admin import ReadOnlyAdmin
from triage.models import Rule, Suggestion


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "pattern", "department", "label", "is_active")
    list_filter = ("kind", "department", "is_active")
    list_editable = ("is_active",)
    search_fields = ("pattern", "label")


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ("mention", "relevant", "route", "department", "tonality", "abusive", "model")
    list_filter = ("route", "tonality", "abusive", "needs_private_data", "model")
    list_select_related = ("mention", "mention__channel")
