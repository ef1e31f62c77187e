"""Django admin of the guidelines app: reply templates, personal-data patterns and the
guidelines pages (one per language; saved through guidelines.actions, which records who
changed it and when)."""

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from guidelines import actions
from guidelines.models import GuidelinePage, PersonalDataPattern, ReplyTemplate
from servicedesk import roles


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "language", "name", "kind", "is_active", "updated_at")
    list_filter = ("language", "kind", "is_active")
    search_fields = ("key", "name", "text")
    fields = ("key", "language", "name", "kind", "text", "is_active", "updated_at")
    readonly_fields = ("updated_at",)


class PersonalDataPatternForm(forms.ModelForm):
    class Meta:
        model = PersonalDataPattern
        fields = ("name", "pattern", "is_active")

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data["pattern"]
        try:
            re.compile(pattern)
        except re.error as error:
            raise forms.ValidationError(
                _("This is not a valid regular expression: %(error)s"),
                params={"error": error},
            ) from error
        return pattern


@admin.register(PersonalDataPattern)
class PersonalDataPatternAdmin(admin.ModelAdmin):
    form = PersonalDataPatternForm
    list_display = ("name", "pattern", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "pattern")


@admin.register(GuidelinePage)
class GuidelinePageAdmin(admin.ModelAdmin):
    list_display = ("language", "updated_at", "updated_by")
    list_select_related = ("updated_by",)
    fields = ("language", "body", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_edit(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request) and super().has_change_permission(request, obj)

    def _may_edit(self, request: HttpRequest) -> bool:
        """As guidelines.actions.update_guideline_page: superusers and team leads."""
        return request.user.is_superuser or roles.is_team_lead(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None:  # one page per language: the language of a page stays
            return ("language", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: GuidelinePage, form: Any, change: bool):
        page = actions.update_guideline_page(
            form.cleaned_data.get("language", obj.language),
            form.cleaned_data["body"],
            actor=request.user,
        )
        obj.pk = page.pk
        obj.updated_at = page.updated_at
        obj.updated_by = page.updated_by
