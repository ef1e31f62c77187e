"""Django admin of the project package: users with their profile (language, time zone), and
the read-only building blocks every app's admin uses for data that actions own."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import TokenProxy

from servicedesk import actions
from servicedesk.models import Profile
from servicedesk.timewindow import EARLIEST_DAY, LATEST_DAY

User = get_user_model()


class WindowedChangeList(ChangeList):
    """A change list whose date hierarchy accepts only years of the desk's time window
    (servicedesk.timewindow): year 9999 would overflow in Django's own arithmetic (a 500);
    Django answers an invalid lookup by reloading the list with `?e=1`."""

    def get_filters(self, request: HttpRequest) -> Any:
        if self.date_hierarchy:
            year = request.GET.get(f"{self.date_hierarchy}__year")
            if year is not None and not (
                year.isdigit() and EARLIEST_DAY.year <= int(year) <= LATEST_DAY.year
            ):
                raise IncorrectLookupParameters(f"year {year!r} outside the desk's window")
        return super().get_filters(request)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Data written only by actions (lifecycles, events, clocks, history): the admin shows it
    and never adds, changes or deletes it. Pages open in Django's view-only mode."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return WindowedChangeList

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


# Two-factor devices hold secrets (the authenticator key, the recovery codes): django-otp's own
# admin shows them; ours lists the devices and lets an administrator delete one (a lost phone:
# the user sets up a new device at the next sign-in), never shows, adds or edits a key.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


@admin.register(TOTPDevice, StaticDevice)
class TwoFactorDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
