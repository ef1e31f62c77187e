"""Data minimisation of incoming posts (issue 15, point 5; pure, no database).

A channel in link-only mode (`Channel.link_only`) keeps of a post's author only the handle,
the platform user id (the identity's key) and a link to the profile: the display name and
the author payload inside `raw` are dropped before anything is stored. `raw` keeps only the
structural ids a thread needs, never the platform's user objects.
"""

from dataclasses import replace
from typing import Any

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform

# The keys of `raw` a link-only channel keeps: ids that place the post, nothing about its author.
STRUCTURAL_KEYS = ("id", "post_id", "media_id", "conversation_id", "link", "demo_step")
PROFILE_URL_KEY = "author_profile_url"


def profile_url(platform: str, handle: str) -> str:
    """The public profile page of `handle` on `platform`, where the platform has one by
    handle; empty otherwise (a Facebook name or a forum's author is no address)."""
    handle = handle.strip().lstrip("@")
    if not handle or any(char.isspace() for char in handle):
        return ""
    if platform == Platform.TWITTER:
        return f"https://x.com/{handle}"
    if platform == Platform.INSTAGRAM:
        return f"https://www.instagram.com/{handle}/"
    if platform == Platform.YOUTUBE:
        return f"https://www.youtube.com/@{handle}"
    if platform == Platform.MASTODON and handle.count("@") == 1:
        user, instance = handle.split("@")
        return f"https://{instance}/@{user}" if user and instance else ""
    return ""


def minimised_raw(raw: dict[str, Any], platform: str, handle: str) -> dict[str, Any]:
    kept: dict[str, Any] = {
        key: raw[key] for key in STRUCTURAL_KEYS if key in raw and isinstance(raw[key], str | int)
    }
    link = profile_url(platform, handle)
    if link:
        kept[PROFILE_URL_KEY] = link
    return kept


def minimise(mention: RawMention, platform: str) -> RawMention:
    """The post as a link-only channel stores it: handle, user id and profile link of the
    author; no display name, no author payload."""
    author = RawAuthor(
        handle=mention.author.handle, platform_user_id=mention.author.platform_user_id
    )
    return replace(
        mention, author=author, raw=minimised_raw(mention.raw, platform, mention.author.handle)
    )
