"""The registry of channel adapters: one module per platform, keyed by `Channel.platform`."""

from typing import Any

from django.utils.module_loading import import_string

from monitoring.adapters.base import ChannelAdapter
from monitoring.choices import Platform

ADAPTERS: dict[str, str] = {
    Platform.MASTODON: "monitoring.adapters.mastodon.MastodonAdapter",
    Platform.TWITTER: "monitoring.adapters.twitter.TwitterAdapter",
    Platform.FACEBOOK: "monitoring.adapters.facebook.FacebookAdapter",
    Platform.INSTAGRAM: "monitoring.adapters.instagram.InstagramAdapter",
    Platform.YOUTUBE: "monitoring.adapters.youtube.YouTubeAdapter",
    Platform.RSS: "monitoring.adapters.rss.RssAdapter",
    Platform.WEBHOOK: "monitoring.adapters.webhook.WebhookAdapter",
    Platform.DEMO: "monitoring.adapters.demo.DemoAdapter",
}


def adapter_class(platform: str) -> type[ChannelAdapter]:
    return import_string(ADAPTERS[platform])


def adapter_for(channel: Any) -> ChannelAdapter:
    """The adapter instance for a channel (adapters are stateless; config is on the channel)."""
    return adapter_class(channel.platform)()


def capabilities_of(channel: Any) -> frozenset[str]:
    """What the channel's adapter can do; nothing if its platform has no adapter."""
    try:
        return frozenset(adapter_class(channel.platform).capabilities)
    except (ImportError, KeyError, AttributeError):
        return frozenset()
