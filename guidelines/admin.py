"""Django admin of the guidelines app: reply templates and personal-data patterns."""

import re

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from guidelines.models import PersonalDataPattern, ReplyTemplate


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
