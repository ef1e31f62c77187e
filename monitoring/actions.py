"""Every write of the monitoring app: channels and their settings, mentions received through
the API or an import (through tickets.intake), polling and moderation.

Each action owns its transaction; `actor` is keyword-only (None: the system).
"""

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from monitoring.adapters import adapter_for
from monitoring.adapters.base import (
    AdapterError,
    AdapterUnauthorized,
    AdapterUnavailable,
    FetchResult,
    NotSupported,
    RawAuthor,
    RawMention,
)
from monitoring.choices import Platform
from monitoring.models import Channel, Mention
from servicedesk import roles
from servicedesk.errors import DomainError, InvalidArgument, InvalidTransition, NotAllowedForRole
from servicedesk.queue import delay_safely
from tickets import actions as ticket_actions
from tickets import intake
from tickets.choices import ReplyKind, ReplyStatus, TicketEventKind
from tickets.models import Reply, Ticket

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- API intake, channels
# (added with the REST API: the mentions endpoint and import_mentions, channel settings)

WEBHOOK_SECRET_BYTES = 32  # 256-bit HMAC key


def receive_mention_batch(
    items: Sequence[tuple[Channel, RawMention]], *, now: datetime, live: bool = True
) -> list[intake.IntakeResult]:
    """Receive a batch that may mix channels, all or nothing: one transaction around the
    intake of every channel's group (in array order within each group); the results come
    back in the order of `items`."""
    groups: dict[int, list[int]] = {}
    channels: dict[int, Channel] = {}
    for position, (channel, _mention) in enumerate(items):
        groups.setdefault(channel.pk, []).append(position)
        channels[channel.pk] = channel
    results: list[Any] = [None] * len(items)
    with transaction.atomic():
        for channel_id, positions in groups.items():
            received = intake.receive_mentions(
                channels[channel_id], [items[p][1] for p in positions], now=now, live=live
            )
            for position, result in zip(positions, received, strict=True):
                results[position] = result
    return results


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
    if fields:
        channel.save(update_fields=sorted(fields))
    return channel


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


# --------------------------------------------------------------------------- polling
# The dispatcher claims each due channel with a lease (compare-and-set on poll_lease_until),
# so at most one poll of a channel runs at a time; the poll fetches outside any transaction,
# then stores the mentions and advances the cursor in one.

POLL_LEASE_SECONDS = 300  # longer than any poll takes; a dead worker's lease expires after it
POLL_DISPATCH_BATCH_SIZE = 200  # channels claimed per dispatcher run
MAX_POLL_BACKOFF_SECONDS = 3600  # exponential backoff after failures stops growing here
UNHEALTHY_AFTER_FAILURES = 3  # consecutive transient failures before the channel shows red


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did: `status` is "polled", "skipped" (not due or leased by another),
    "conflict" (another poll moved the cursor first), "unavailable", "unauthorized" or
    "invalid"."""

    status: str
    created: int = 0
    duplicates: int = 0


def claim_poll_lease(channel: Channel, *, now: datetime) -> datetime | None:
    """Lease `channel` for one poll if it is due and nobody holds a lease (compare-and-set
    in one UPDATE: of two dispatchers only one gets it). Returns the lease's end or None."""
    lease_until = now + timedelta(seconds=POLL_LEASE_SECONDS)
    claimed = (
        Channel.objects.due_for_poll(now).filter(pk=channel.pk).update(poll_lease_until=lease_until)
    )
    return lease_until if claimed else None


def dispatch_due_polls(*, now: datetime) -> list[int]:
    """Lease every channel due at `now` and enqueue one poll task for each. A channel whose
    task is lost (broker down) is due again once its lease has expired."""
    from monitoring import tasks

    channel_ids = list(
        Channel.objects.due_for_poll(now)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:POLL_DISPATCH_BATCH_SIZE]
    )
    dispatched = []
    for channel_id in channel_ids:
        lease_until = claim_poll_lease(Channel(pk=channel_id), now=now)
        if lease_until is not None:
            delay_safely(tasks.poll_channel_task, channel_id, lease_until.isoformat())
            dispatched.append(channel_id)
    return dispatched


def poll_channel(
    channel: Channel, *, now: datetime, lease_until: datetime | None = None
) -> PollOutcome:
    """Fetch new mentions of `channel` and store them through the intake.

    Without `lease_until` the poll claims the channel's lease itself (and is "skipped" when
    the channel is not due or another poll holds it); with it, the poll runs only while the
    channel still holds that very lease. The platform call happens outside any transaction
    and holds no row lock; the mentions, the new cursor (compare-and-set on the old one) and
    the health fields are then written in one transaction, so a worker killed mid-poll
    loses nothing and stores nothing twice. 429 polls again after Retry-After, other
    transient failures back off exponentially, 401/403 marks the channel unhealthy and stops
    its polling until its settings change (`resume_polling`).
    """
    if lease_until is None:
        lease_until = claim_poll_lease(channel, now=now)
        if lease_until is None:
            return PollOutcome("skipped")
    channel = Channel.objects.get(pk=channel.pk)
    if channel.poll_lease_until != lease_until:
        return PollOutcome("skipped")  # the lease expired and another poll took over
    adapter = adapter_for(channel)
    if "fetch" not in adapter.capabilities:
        _finish_poll(channel, lease_until=lease_until, now=now, next_poll_at=None)
        return PollOutcome("skipped")
    old_cursor = channel.cursor or None
    try:
        result = adapter.fetch(channel, old_cursor)
    except AdapterUnavailable as error:
        _record_poll_failure(channel, error, lease_until=lease_until, now=now)
        return PollOutcome("unavailable")
    except AdapterUnauthorized as error:
        _record_poll_failure(channel, error, lease_until=lease_until, now=now, stop=True)
        return PollOutcome("unauthorized")
    except AdapterError as error:
        logger.warning("poll of channel %s failed: %s", channel.pk, type(error).__name__)
        _record_poll_failure(channel, error, lease_until=lease_until, now=now)
        return PollOutcome("invalid")
    return _store_poll(channel, result, old_cursor=old_cursor, lease_until=lease_until, now=now)


class _CursorMoved(Exception):
    """Another poll advanced the cursor first: roll this poll's writes back."""


def _store_poll(
    channel: Channel,
    result: FetchResult,
    *,
    old_cursor: str | None,
    lease_until: datetime,
    now: datetime,
) -> PollOutcome:
    try:
        with transaction.atomic():
            locked = Channel.objects.select_for_update().get(pk=channel.pk)
            # Compare-and-set: only the poll that read this cursor may advance it.
            if (locked.cursor or None) != old_cursor or locked.poll_lease_until != lease_until:
                raise _CursorMoved()
            results = intake.receive_mentions(locked, result.mentions, now=now)
            locked.cursor = result.next_cursor or ""
            locked.last_polled_at = now
            locked.last_success_at = now
            locked.last_error = ""
            locked.is_healthy = True
            locked.consecutive_failures = 0
            if result.mentions:
                newest = max(mention.created_at for mention in result.mentions)
                locked.lag_seconds = max((now - newest).total_seconds(), 0.0)
            locked.next_poll_at = now + timedelta(seconds=locked.poll_interval_seconds)
            locked.poll_lease_until = None
            locked.save(
                update_fields=[
                    "cursor",
                    "last_polled_at",
                    "last_success_at",
                    "last_error",
                    "is_healthy",
                    "consecutive_failures",
                    "lag_seconds",
                    "next_poll_at",
                    "poll_lease_until",
                ]
            )
    except _CursorMoved:
        logger.info("poll of channel %s lost the race for its cursor", channel.pk)
        return PollOutcome("conflict")
    created = sum(1 for item in results if item.status == intake.CREATED)
    logger.info("channel %s polled: %s new, %s known", channel.pk, created, len(results) - created)
    return PollOutcome("polled", created=created, duplicates=len(results) - created)


def _record_poll_failure(
    channel: Channel,
    error: AdapterError,
    *,
    lease_until: datetime,
    now: datetime,
    stop: bool = False,
) -> None:
    """Health after a failed poll; releases the lease. The error text is the adapter's,
    which never contains credentials."""
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        if locked.poll_lease_until != lease_until:
            return
        failures = locked.consecutive_failures + 1
        if stop:
            next_poll_at = None
        elif isinstance(error, AdapterUnavailable) and error.retry_after is not None:
            next_poll_at = now + timedelta(seconds=error.retry_after)
        else:
            backoff = locked.poll_interval_seconds * 2 ** min(failures, 20)
            next_poll_at = now + timedelta(seconds=min(backoff, MAX_POLL_BACKOFF_SECONDS))
        locked.consecutive_failures = failures
        locked.last_polled_at = now
        locked.last_error = str(error)[:1000]
        locked.last_error_at = now
        locked.is_healthy = not stop and failures < UNHEALTHY_AFTER_FAILURES
        locked.next_poll_at = next_poll_at
        locked.poll_lease_until = None
        locked.save(
            update_fields=[
                "consecutive_failures",
                "last_polled_at",
                "last_error",
                "last_error_at",
                "is_healthy",
                "next_poll_at",
                "poll_lease_until",
            ]
        )
    logger.warning(
        "poll of channel %s failed (%s); next poll at %s",
        channel.pk,
        type(error).__name__,
        next_poll_at.isoformat() if next_poll_at else "never (until the channel is changed)",
    )


def _finish_poll(
    channel: Channel, *, lease_until: datetime, now: datetime, next_poll_at: datetime | None
) -> None:
    Channel.objects.filter(pk=channel.pk, poll_lease_until=lease_until).update(
        poll_lease_until=None, next_poll_at=next_poll_at, last_polled_at=now
    )


@transaction.atomic
def resume_polling(channel: Channel, *, now: datetime) -> Channel:
    """Poll the channel from `now` on: after it was created, or after its credentials or URL
    changed (a 401/403 stopped it). Clears the failure count; health shows at the next poll."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    channel.next_poll_at = now
    channel.consecutive_failures = 0
    channel.poll_lease_until = None
    channel.save(update_fields=["next_poll_at", "consecutive_failures", "poll_lease_until"])
    return channel


# --------------------------------------------------------------------------- moderation
# Hiding and blocking are a CM's (or team lead's) last resort against persistent abusers,
# after a netiquette reminder (DESIGN §2). The platform is called first, outside any
# transaction; the desk records the result only once the platform has accepted.


class ModerationNotSupported(DomainError):
    code = "moderation_not_supported"
    status = 409
    default_detail = _lazy("This channel's platform does not support this moderation.")


class ModerationFailed(DomainError):
    code = "moderation_failed"
    status = 503
    default_detail = _lazy("The platform did not carry out the moderation. Try again later.")


class BlockNeedsReminder(DomainError):
    code = "block_needs_reminder"
    status = 400
    default_detail = _lazy(
        "Blocking needs a netiquette reminder sent to this author earlier, or a written reason."
    )


def _ensure_may_moderate(actor: Any) -> None:
    if not (roles.is_community_manager(actor) or roles.is_team_lead(actor)):
        raise NotAllowedForRole(_("Only community managers and team leads hide or block."))


def _moderating_adapter(mention: Mention, capability: str) -> Any:
    adapter = adapter_for(mention.channel)
    if capability not in adapter.capabilities:
        raise ModerationNotSupported()
    if mention.ticket_id is None:
        raise InvalidArgument(_("Posts of the channel's own accounts are not moderated."))
    return adapter


def _call_platform(operation: Any, mention: Mention) -> None:
    try:
        operation()
    except NotSupported as error:
        raise ModerationNotSupported() from error
    except AdapterError as error:
        logger.warning("moderation of mention %s failed: %s", mention.pk, type(error).__name__)
        raise ModerationFailed(
            _("The platform did not carry out the moderation: %(error)s") % {"error": error}
        ) from error


def hide_mention(mention: Mention, *, actor: Any) -> Mention:
    """Hide `mention` on its platform (CMs and team leads).

    Refuses NotAllowedForRole, ModerationNotSupported (the adapter lacks "hide"),
    ModerationFailed (the platform refused or is unavailable: nothing recorded). Marks the
    mention hidden and records a moderation event only after the platform accepted; hiding a
    hidden mention changes nothing.
    """
    _ensure_may_moderate(actor)
    mention = Mention.objects.select_related("channel").get(pk=mention.pk)
    if mention.is_hidden:
        return mention
    adapter = _moderating_adapter(mention, "hide")
    _call_platform(lambda: adapter.hide(mention.channel, mention.external_id), mention)
    now = timezone.now()
    with transaction.atomic():
        mention = Mention.objects.select_for_update().get(pk=mention.pk)
        if mention.is_hidden:
            return mention
        mention.is_hidden = True
        mention.save(update_fields=["is_hidden"])
        ticket_actions.record_event(
            mention.ticket,
            TicketEventKind.MODERATION,
            actor=actor,
            at=now,
            action="hide",
            mention=mention.pk,
        )
    return mention


def netiquette_reminder_for(mention: Mention) -> Reply | None:
    """The newest sent moderation reply on a ticket of the mention's customer, if any."""
    if mention.identity_id is None:
        return None
    return (
        Reply.objects.filter(
            kind=ReplyKind.MODERATION,
            status=ReplyStatus.SENT,
            ticket__customer_id=mention.identity.customer_id,
        )
        .order_by("-sent_at")
        .first()
    )


def block_author(
    mention: Mention, *, actor: Any, reason: str = "", reminder_reply: Reply | None = None
) -> Mention:
    """Block the author of `mention` on its platform (CMs and team leads).

    Needs a netiquette reminder (a sent reply of kind moderation on a ticket of the same
    customer; found automatically when not given) or a written `reason`. Refuses
    NotAllowedForRole, ModerationNotSupported, BlockNeedsReminder (neither given, or the
    given reply is not such a reminder), ModerationFailed (nothing recorded). Records a
    moderation event once the platform accepted.
    """
    _ensure_may_moderate(actor)
    mention = Mention.objects.select_related("channel", "identity").get(pk=mention.pk)
    adapter = _moderating_adapter(mention, "block")
    reason = (reason or "").strip()
    if reminder_reply is not None:
        customer_id = mention.identity.customer_id if mention.identity_id else None
        reminder_reply = Reply.objects.select_related("ticket").get(pk=reminder_reply.pk)
        if (
            reminder_reply.kind != ReplyKind.MODERATION
            or reminder_reply.status != ReplyStatus.SENT
            or reminder_reply.ticket.customer_id != customer_id
        ):
            raise BlockNeedsReminder(
                _("The chosen reply is not a netiquette reminder sent to this author.")
            )
    elif not reason:
        reminder_reply = netiquette_reminder_for(mention)
        if reminder_reply is None:
            raise BlockNeedsReminder()
    author = RawAuthor(
        handle=mention.author_handle,
        display_name=mention.author_display_name,
        platform_user_id=mention.author_platform_user_id,
    )
    _call_platform(lambda: adapter.block(mention.channel, author), mention)
    with transaction.atomic():
        ticket_actions.record_event(
            Ticket.objects.get(pk=mention.ticket_id),
            TicketEventKind.MODERATION,
            actor=actor,
            at=timezone.now(),
            note=reason,
            action="block",
            mention=mention.pk,
            reminder_reply=reminder_reply.pk if reminder_reply else None,
        )
    return mention
