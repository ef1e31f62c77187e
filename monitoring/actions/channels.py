"""Channels and their settings (superusers): creation, changes, the webhook signing secret,
and whether a channel can be polled."""

import logging
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.adapters import adapter_for
from monitoring.choices import Platform
from monitoring.models import Channel
from servicedesk.errors import InvalidArgument, InvalidTransition, NotAllowedForRole

logger = logging.getLogger(__name__)


WEBHOOK_SECRET_BYTES = 32  # 256-bit HMAC key


def _ensure_superuser(actor: Any) -> None:
    if not (actor is not None and actor.is_superuser):
        raise NotAllowedForRole(_("Only administrators configure channels."))


def _new_webhook_secret() -> str:
    return secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)


# Channel settings an administrator may change (slug and platform are fixed at creation),
# in the order the API and the admin show them.
CHANNEL_SETTINGS = (
    "name",
    "is_active",
    "own_accounts",
    "keywords",
    "base_url",
    "poll_interval_seconds",
    "callback_url",
    "private_replies_need_review",
    "credentials",
)


@transaction.atomic
def create_channel(
    *, actor: Any, slug: str, platform: str, **channel_settings: Any
) -> tuple[Channel, str | None]:
    """Create a channel (superusers). A webhook channel gets a generated signing secret,
    returned here once (it is stored encrypted). Returns (channel, secret or None)."""
    _ensure_superuser(actor)
    unknown = set(channel_settings).difference(CHANNEL_SETTINGS)
    if unknown:
        raise InvalidArgument(_("Unknown channel setting."), field=sorted(unknown)[0])
    if Channel.objects.filter(slug=slug).exists():
        raise InvalidArgument(_("A channel with this slug exists already."), field="slug")
    secret = _new_webhook_secret() if platform == Platform.WEBHOOK else None
    channel = Channel(slug=slug, platform=platform, webhook_secret=secret or "", **channel_settings)
    # Polled from now on if it can be: push-only channels (no credentials) are never polled.
    channel.next_poll_at = timezone.now() if can_poll(channel) else None
    channel.save()
    logger.info("channel %s created by user %s", channel.pk, actor.pk)
    return channel, secret


@transaction.atomic
def change_channel_settings(channel: Channel, *, actor: Any, **changes: Any) -> Channel:
    """Change the given settings of a channel (superusers); slug and platform stay."""
    _ensure_superuser(actor)
    unknown = set(changes).difference(CHANNEL_SETTINGS)
    if unknown:
        raise InvalidArgument(_("This setting cannot be changed."), field=sorted(unknown)[0])
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    for name, value in changes.items():
        setattr(channel, name, value)
    fields = set(changes)
    if fields & POLLING_SETTINGS:
        # New credentials or a new URL: poll again at once (a 401/403 had stopped it).
        channel.next_poll_at = timezone.now() if can_poll(channel) else None
        channel.consecutive_failures = 0
        fields |= {"next_poll_at", "consecutive_failures"}
    if fields & SENDING_SETTINGS and channel.last_send_failed_at is not None:
        # A new set-up: the last failed delivery no longer says the channel cannot send.
        channel.last_send_failed_at = None
        channel.last_send_error = ""
        fields |= {"last_send_failed_at", "last_send_error"}
    if fields:
        channel.save(update_fields=sorted(fields))
    return channel


SENDING_SETTINGS = frozenset({"credentials", "base_url", "callback_url", "is_active"})


def record_send_outcome(channel_id: int, *, ok: bool, error: str = "", at: datetime) -> None:
    """The outbox's note of a delivery attempt on the channel (its send health, see
    monitoring.health): one UPDATE, never moving the moments backwards."""
    rows = Channel.objects.filter(pk=channel_id)
    if ok:
        rows.filter(Q(last_send_ok_at__isnull=True) | Q(last_send_ok_at__lt=at)).update(
            last_send_ok_at=at
        )
    else:
        rows.filter(Q(last_send_failed_at__isnull=True) | Q(last_send_failed_at__lt=at)).update(
            last_send_failed_at=at, last_send_error=error[:1000]
        )


POLLING_SETTINGS = frozenset({"credentials", "base_url", "is_active", "keywords"})


def can_poll(channel: Channel) -> bool:
    """An active channel whose adapter fetches and that has what fetching needs: credentials
    for the platforms' APIs, a feed URL for RSS, nothing for the demo channel."""
    if not channel.is_active or "fetch" not in adapter_for(channel).capabilities:
        return False
    if channel.platform == Platform.DEMO:
        return True
    if channel.platform == Platform.RSS:
        return bool(channel.base_url)
    return bool(channel.credentials)


@transaction.atomic
def rotate_channel_secret(channel: Channel, *, actor: Any) -> str:
    """Replace a webhook channel's signing secret (superusers); returns the new one, which
    is shown once. Other platforms have no secret to rotate."""
    _ensure_superuser(actor)
    if channel.platform != Platform.WEBHOOK:
        raise InvalidTransition(_("Only webhook channels have a signing secret."))
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    secret = _new_webhook_secret()
    channel.webhook_secret = secret
    channel.save(update_fields=["webhook_secret"])
    logger.info("webhook secret of channel %s rotated by user %s", channel.pk, actor.pk)
    return secret
