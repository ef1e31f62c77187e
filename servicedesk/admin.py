"""Django admin of the project package: users with their profile (language, time zone), and
the read-only building blocks every app's admin uses for data that actions own."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from servicedesk import actions
from servicedesk.models import Profile

User = get_user_model()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Data written only by actions (lifecycles, events, clocks, history): the admin shows it
    and never adds, changes or deletes it. Pages open in Django's view-only mode."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """A read-only inline (see ReadOnlyAdmin): rows are shown, none added, changed or removed."""

    extra = 0
    can_delete = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    max_num = 1
    fields = ("language", "time_zone")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the desk profile inline."""

    inlines = (ProfileInline,)
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """The profile through servicedesk.actions.update_preferences, like the account page."""
        if formset.model is not Profile:
            super().save_formset(request, form, formset, change)
            return
        # commit=False: the changed profiles in memory (and what the change log reads).
        for profile in formset.save(commit=False):
            actions.update_preferences(
                form.instance, language=profile.language, time_zone=profile.time_zone
            )


# API tokens are secrets: the admin neither lists nor shows them (users manage their own token
# on the account page; machine accounts get theirs from `create_api_client`).
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
