"""Presence states and shift duties (issue 16)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PresenceStatus(models.TextChoices):
    ONLINE = "online", pgettext_lazy("presence", "online")
    AWAY = "away", pgettext_lazy("presence", "away")
    OFFLINE = "offline", pgettext_lazy("presence", "offline")


class PresenceSource(models.TextChoices):
    """Who set the status: the user (header switch, API) or the desk (activity, logout)."""

    USER = "user", _("set by the user")
    ACTIVITY = "activity", _("derived from activity")
    LOGOUT = "logout", _("sign-out")


class Duty(models.TextChoices):
    TRIAGE = "triage", pgettext_lazy("duty", "triage")
    SUPPORT = "support", pgettext_lazy("duty", "support")
    REVIEW = "review", pgettext_lazy("duty", "review")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")
