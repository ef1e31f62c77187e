"""Per-user preferences of the desk: interface language and time zone."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

TIME_ZONE_CHOICES = [
    ("Europe/Berlin", "Europe/Berlin"),
    ("Europe/Vienna", "Europe/Vienna"),
    ("Europe/Zurich", "Europe/Zurich"),
    ("Europe/London", "Europe/London"),
    ("UTC", "UTC"),
]


class Profile(models.Model):
    """A user's interface language and time zone (German and Europe/Berlin by default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="de"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Berlin"
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"profile of {self.user_id}"
