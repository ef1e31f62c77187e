"""Enumerations of the monitoring app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    TWITTER = "twitter", _("X / Twitter")
    FACEBOOK = "facebook", _("Facebook Page")
    INSTAGRAM = "instagram", _("Instagram")
    YOUTUBE = "youtube", _("YouTube")
    MASTODON = "mastodon", _("Mastodon")
    RSS = "rss", _("RSS/Atom (forum, blog, review site)")
    WEBHOOK = "webhook", _("Webhook bridge")
    DEMO = "demo", _("Demo (replayed sample traffic)")


# On these channels the channel itself stands in for the platform in identity keys (DESIGN §5).
CHANNEL_SCOPED_PLATFORMS = (Platform.RSS, Platform.WEBHOOK, Platform.DEMO)

# Public reply length limits per platform (characters); None: no practical limit.
REPLY_LENGTH_LIMITS: dict[str, int | None] = {
    Platform.TWITTER: 280,
    Platform.FACEBOOK: 8000,
    Platform.INSTAGRAM: 2200,
    Platform.YOUTUBE: 10000,
    Platform.MASTODON: 500,
    Platform.RSS: None,
    Platform.WEBHOOK: None,
    Platform.DEMO: 500,
}
