"""Replies and their four-eyes review (DESIGN §3.2): drafting one answer to one mention,
editing by its author, submitting, approval by a second person (never the author, never an
api_client), rejection with a comment, retry after a failed delivery, and the confirmation
of a reply posted by hand on channels that cannot post. Delivery itself is
`tickets.outbox`'s, which sends what is approved and records the outcome."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from knowledge import actions as knowledge_actions
from monitoring.adapters import adapter_for
from monitoring.health import private_reply_problem
from servicedesk.errors import (
    InvalidArgument,
    InvalidTransition,
    NotAllowedForRole,
    SelfApprovalNotAllowed,
    StaleState,
)
from servicedesk.links import is_web_url
from servicedesk.queue import enqueue_on_commit
from tickets import access
from tickets.actions.clocks import stop_response_clocks
from tickets.actions.events import record_event, require_text
from tickets.actions.incidents import resolve_after_resolution
from tickets.actions.notifications import notify
from tickets.actions.review_routing import request_review
from tickets.actions.triage_labels import on_cm_answer
from tickets.choices import (
    OPEN_STATES,
    NotificationKind,
    ReplyKind,
    ReplyStatus,
    ReplyStep,
    ReplyVisibility,
    TicketEventKind,
    TicketState,
)
from tickets.models import Reply, Ticket
from tickets.reply_context import answered_mention, public_reply_personal_data

User = get_user_model()

SEND_REPLY_TASK = "tickets.tasks.send_reply_task"


def _ensure_may_draft(actor: Any) -> None:
    if not access.may_draft_replies(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads write replies."))


def draft_reply(
    ticket: Ticket,
    *,
    actor: Any,
    text: str,
    visibility: str,
    kind: str,
    mention: Any,
    template: Any,
    now: datetime,
    knowledge_uses: Iterable[int] = (),
) -> Reply:
    """The draft row and its event; the insertions from the information centre that the
    composer sends with it belong to it from now on (their use is counted once it is sent)."""
    knowledge_uses = list(knowledge_uses)
    reply = Reply.objects.create(
        ticket=ticket,
        in_reply_to_mention=mention,
        visibility=visibility,
        kind=kind,
        text=text,
        template=template,
        author=actor,
        created_at=now,
        updated_at=now,
    )
    record_event(
        ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step=ReplyStep.DRAFTED,
        visibility=visibility,
        reply_kind=kind,
        **({"knowledge_uses": sorted(set(knowledge_uses))} if knowledge_uses else {}),
    )
    knowledge_actions.attach_insertions(
        knowledge_uses, actor=actor, ticket_id=ticket.pk, reply_id=reply.pk
    )
    return reply


@transaction.atomic
def create_reply(
    ticket: Ticket,
    *,
    actor: Any,
    text: str,
    visibility: str,
    kind: str,
    in_reply_to_mention: Any = None,
    template: Any = None,
    submit: bool = False,
    knowledge_uses: Iterable[int] = (),
) -> Reply:
    """Draft a reply to one mention of an open ticket (optionally submitted at once), with
    the ids of what was inserted into it from the information centre (`knowledge_uses`)."""
    _ensure_may_draft(actor)
    text = require_text(text, "text")
    if visibility not in ReplyVisibility.values:
        raise InvalidArgument(_("Unknown visibility."), field="visibility")
    if kind not in ReplyKind.values:
        raise InvalidArgument(_("Unknown kind."), field="kind")
    now = timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.state not in OPEN_STATES:
        raise InvalidTransition(_("Replies are written on open tickets only."))
    mention = answered_mention(ticket, in_reply_to_mention)
    if mention.ticket_id != ticket.pk:
        raise InvalidArgument(
            _("The mention does not belong to this ticket."), field="in_reply_to_mention"
        )
    if visibility == ReplyVisibility.PRIVATE:
        problem = private_reply_problem(
            ticket.channel,
            platform_user_id=mention.author_platform_user_id,
            is_private_conversation=mention.is_private,
        )
        if problem:
            raise InvalidArgument(problem, field="visibility")
    reply = draft_reply(
        ticket,
        actor=actor,
        text=text,
        visibility=visibility,
        kind=kind,
        mention=mention,
        template=template,
        now=now,
        knowledge_uses=knowledge_uses,
    )
    if submit:
        submit_draft(reply, actor=actor, now=now)
    if ticket.state == TicketState.NEW and kind == ReplyKind.ANSWER:
        on_cm_answer(mention, actor=actor, now=now)
    return reply


def lock_reply(reply: Reply) -> Reply:
    """Lock the reply's ticket, then the reply (only those rows: the channel and mention it
    reads with it stay unlocked); StaleState if its status moved."""
    Ticket.objects.select_for_update().filter(pk=reply.ticket_id).first()
    locked = (
        Reply.objects.select_for_update(of=("self",))
        .select_related("ticket__channel", "in_reply_to_mention")
        .get(pk=reply.pk)
    )
    if locked.status != reply.status:
        raise StaleState(expected=reply.status, actual=locked.status)
    return locked


def save_reply(reply: Reply, fields: Iterable[str]) -> None:
    try:
        reply.save(update_fields=sorted({"status", "updated_at", *fields}))
    except ConcurrentTransition as error:
        raise StaleState() from error


def submit_draft(reply: Reply, *, actor: Any, now: datetime) -> Reply:
    if not can_proceed(reply.submit):
        raise InvalidTransition(_("Only a draft can be submitted."))
    needs_review = (
        reply.visibility == ReplyVisibility.PUBLIC
        or reply.ticket.channel.private_replies_need_review
    )
    reply.submit(needs_review=needs_review, at=now)
    if not needs_review and is_posted_by_hand(reply):
        reply.next_attempt_at = None  # nothing for the outbox: the author posts and confirms it
    reply.updated_at = now
    save_reply(reply, ["submitted_at", "approved_at", "next_attempt_at"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step=ReplyStep.SUBMITTED if needs_review else ReplyStep.APPROVED,
    )
    if needs_review:
        request_review(reply, now=now)
    elif reply.next_attempt_at is not None:
        enqueue_on_commit(SEND_REPLY_TASK, reply.pk)
    return reply


@transaction.atomic
def edit_reply(reply: Reply, *, actor: Any, text: str) -> Reply:
    """Only the author edits, and only a draft."""
    text = require_text(text, "text")
    reply = lock_reply(reply)
    if reply.author_id != actor.pk:
        raise NotAllowedForRole(_("Only the author edits a reply."))
    if reply.status != ReplyStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited."))
    reply.text = text
    reply.updated_at = timezone.now()
    if reply.rejected_for_personal_data:
        reply.rejected_for_personal_data = bool(public_reply_personal_data(reply))
    reply.save(update_fields=["text", "updated_at", "rejected_for_personal_data"])
    return reply


@transaction.atomic
def submit_reply(reply: Reply, *, actor: Any) -> Reply:
    """Send a draft for review (public), or approve it at once (private, unless the channel
    wants private replies reviewed). Only the author submits."""
    reply = lock_reply(reply)
    if reply.author_id != actor.pk:
        raise NotAllowedForRole(_("Only the author submits a reply."))
    return submit_draft(reply, actor=actor, now=timezone.now())


def tell_author(reply: Reply, kind: str, text: str, *, now: datetime, dedupe_key: str = "") -> None:
    """Notify a reply's author of what happened to it (review result, failed delivery)."""
    notify(
        [reply.author],
        kind,
        ticket=reply.ticket,
        at=now,
        text=text,
        reply=reply.pk,
        dedupe_key=dedupe_key,
    )


def _ensure_may_review(reply: Reply, actor: Any) -> None:
    if not access.may_review_replies(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads review replies."))
    if reply.author_id == actor.pk:
        raise SelfApprovalNotAllowed()


OVERRIDE_REASON_MAX_CHARS = 2000


def _personal_data_override(reply: Reply, override_reason: str) -> str:
    """Issue 15, point 7: a public reply in which the guideline checks find personal data is
    approved only with the approver's reason (returned, to be recorded); InvalidArgument
    without one. Empty for a reply without personal data."""
    found = public_reply_personal_data(reply)
    if not found:
        return ""
    reason = (override_reason or "").strip()
    if not reason:
        raise InvalidArgument(
            _(
                "This public reply contains personal data (%(what)s). Reject it, or give a "
                "reason why it may be published anyway."
            )
            % {"what": ", ".join(found)},
            field="override_reason",
        )
    if len(reason) > OVERRIDE_REASON_MAX_CHARS:
        raise InvalidArgument(
            _("The reason is too long (at most %(limit)s characters).")
            % {"limit": OVERRIDE_REASON_MAX_CHARS},
            field="override_reason",
        )
    return reason


@transaction.atomic
def approve_reply(reply: Reply, *, actor: Any, override_reason: str = "") -> Reply:
    """A second person approves (four-eyes); the outbox sends it after commit.

    Refuses SelfApprovalNotAllowed (the author) and NotAllowedForRole (api clients, experts),
    and InvalidArgument for a public reply with personal data unless `override_reason` is
    given (recorded on the reply and in the ticket's history).
    """
    _ensure_may_review(reply, actor)
    reply = lock_reply(reply)
    now = timezone.now()
    if not can_proceed(reply.approve):
        raise InvalidTransition(_("Only a reply waiting for review can be approved."))
    override = _personal_data_override(reply, override_reason)
    reply.approve(reviewer=actor, at=now)
    if is_posted_by_hand(reply):
        reply.next_attempt_at = None  # nothing for the outbox: the author posts and confirms it
    reply.updated_at = now
    reply.personal_data_override = override
    reply.rejected_for_personal_data = False  # approved: it is what the desk publishes
    save_reply(
        reply,
        ["reviewer", "reviewed_at", "approved_at", "next_attempt_at"]
        + ["personal_data_override", "rejected_for_personal_data"],
    )
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step=ReplyStep.APPROVED,
        **({"note": override, "personal_data_override": True} if override else {}),
    )
    tell_author(
        reply,
        NotificationKind.REVIEW_RESULT,
        lambda: _("Your reply on ticket #%(ticket)s was approved.") % {"ticket": reply.ticket_id},
        now=now,
    )
    if reply.next_attempt_at is not None:
        enqueue_on_commit(SEND_REPLY_TASK, reply.pk)
    return reply


@transaction.atomic
def reject_reply(reply: Reply, *, actor: Any, comment: str) -> Reply:
    """The reviewer sends the reply back to its author as a draft, with a comment."""
    comment = require_text(comment, "comment")
    _ensure_may_review(reply, actor)
    reply = lock_reply(reply)
    now = timezone.now()
    if not can_proceed(reply.reject):
        raise InvalidTransition(_("Only a reply waiting for review can be rejected."))
    reply.reject(reviewer=actor, comment=comment, at=now)
    reply.updated_at = now
    # A draft sent back with personal data in a public text stays out of search (point 7).
    reply.rejected_for_personal_data = bool(public_reply_personal_data(reply))
    save_reply(reply, ["reviewer", "reviewed_at", "review_comment", "rejected_for_personal_data"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        note=comment,
        reply=reply.pk,
        step=ReplyStep.REJECTED,
    )
    tell_author(
        reply,
        NotificationKind.REVIEW_RESULT,
        lambda: (
            _("Your reply on ticket #%(ticket)s was rejected: %(comment)s")
            % {"ticket": reply.ticket_id, "comment": comment}
        ),
        now=now,
    )
    return reply


@transaction.atomic
def retry_reply(reply: Reply, *, actor: Any) -> Reply:
    """A person sends a failed reply again (after checking the platform)."""
    if not access.may_draft_replies(actor):
        raise NotAllowedForRole()
    reply = lock_reply(reply)
    now = timezone.now()
    if not can_proceed(reply.retry):
        raise InvalidTransition(_("Only a failed reply can be retried."))
    reply.retry(at=now)
    reply.updated_at = now
    save_reply(reply, ["next_attempt_at"])
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step=ReplyStep.RETRY,
    )
    enqueue_on_commit(SEND_REPLY_TASK, reply.pk)
    return reply


def reply_capability(reply: Reply) -> str:
    """The adapter capability that posting `reply` needs."""
    return "reply_private" if reply.visibility == ReplyVisibility.PRIVATE else "reply_public"


def is_posted_by_hand(reply: Reply) -> bool:
    """The reply's channel cannot post it (RSS: review sites, forums, blogs): once approved,
    its author posts it by hand and confirms the permalink; the outbox never takes it."""
    return reply_capability(reply) not in adapter_for(reply.ticket.channel).capabilities


@transaction.atomic
def confirm_reply_posted(reply: Reply, *, actor: Any, permalink: str) -> Reply:
    """On a channel whose adapter cannot post, or after a failed delivery on any channel,
    the author confirms the hand-posted reply with its permalink; it counts as sent now (it
    stops the response clocks and satisfies the resolve and unsolvable guards)."""
    permalink = require_text(permalink, "permalink")
    if not is_web_url(permalink):
        raise InvalidArgument(_("Enter the permalink as an http(s) URL."), field="permalink")
    reply = lock_reply(reply)
    if reply.author_id != actor.pk:
        raise NotAllowedForRole(_("Only the author confirms a hand-posted reply."))
    if reply.status != ReplyStatus.FAILED and not is_posted_by_hand(reply):
        raise InvalidTransition(
            _("This channel posts replies itself; confirm by hand only after a failed delivery.")
        )
    now = timezone.now()
    if not can_proceed(reply.confirm_posted):
        raise InvalidTransition(_("Only an approved or failed reply can be confirmed as posted."))
    reply.confirm_posted(permalink=permalink, at=now)
    reply.updated_at = now
    save_reply(reply, ["permalink", "sent_at", "next_attempt_at"])
    record_sent(reply, actor=actor, now=now)
    return reply


def record_sent(reply: Reply, *, actor: Any, now: datetime) -> None:
    record_event(
        reply.ticket,
        TicketEventKind.REPLY,
        actor=actor,
        at=now,
        reply=reply.pk,
        step=ReplyStep.SENT,
        platform_id=reply.platform_id,
    )
    stop_response_clocks(reply.ticket, reply=reply, at=now)
    knowledge_actions.record_reply_sent(reply.pk, actor=actor, at=now)
    # an incident's resolution statement, sent by the outbox or confirmed as posted by hand
    resolve_after_resolution(reply, now=now)
