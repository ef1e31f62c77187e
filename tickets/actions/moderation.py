"""Moderation (DESIGN §2): hiding a post and blocking its author on the platform, a CM's (or
team lead's) last resort against persistent abusers, after a netiquette reminder. The
platform is called first, outside any transaction; the desk marks the mention and records a
moderation event on its ticket only once the platform has accepted."""

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from crm import actions as crm_actions
from crm.choices import BlockScope
from monitoring.actions import mark_hidden
from monitoring.adapters import adapter_for
from monitoring.adapters.base import AdapterError, NotSupported, RawAuthor
from monitoring.models import Mention
from servicedesk.errors import DomainError, InvalidArgument, NotAllowedForRole
from tickets import access
from tickets.actions.events import record_event
from tickets.choices import ReplyKind, ReplyStatus, TicketEventKind
from tickets.models import Reply

logger = logging.getLogger(__name__)


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
    if not access.may_triage(actor):
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
        if not mark_hidden(mention):
            return mention
        record_event(
            mention.ticket_id,
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
    mention: Mention,
    *,
    actor: Any,
    reason: str = "",
    reminder_reply: Reply | None = None,
    desk_only: bool = False,
) -> Mention:
    """Block the author of `mention` on its platform (CMs and team leads), or with
    `desk_only` on the desk alone (where the platform cannot block, e.g. X API v2): the
    author is marked blocked and their new posts land in the inbox's "Blocked" filter.

    Needs a netiquette reminder (a sent reply of kind moderation on a ticket of the same
    customer; found automatically when not given) or a written `reason`. Refuses
    NotAllowedForRole, ModerationNotSupported, BlockNeedsReminder (neither given, or the
    given reply is not such a reminder), ModerationFailed (nothing recorded). Records a
    moderation event once the platform accepted.
    """
    _ensure_may_moderate(actor)
    mention = Mention.objects.select_related("channel", "identity").get(pk=mention.pk)
    if desk_only:
        if mention.ticket_id is None:
            raise InvalidArgument(_("Posts of the channel's own accounts are not moderated."))
        adapter = None
    else:
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
    if adapter is not None:
        _call_platform(lambda: adapter.block(mention.channel, author), mention)
    now = timezone.now()
    scope = BlockScope.DESK if adapter is None else BlockScope.PLATFORM
    with transaction.atomic():
        if mention.identity_id is not None:
            crm_actions.mark_blocked(mention.identity_id, scope=scope, at=now)
        record_event(
            mention.ticket_id,
            TicketEventKind.MODERATION,
            actor=actor,
            at=now,
            note=reason,
            action="block",
            scope=scope,
            mention=mention.pk,
            reminder_reply=reminder_reply.pk if reminder_reply else None,
        )
    return mention
