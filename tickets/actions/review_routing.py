"""Review routing (issue 16, point 4): who is asked to proof-read a reply.

A reply submitted for review goes first to the reviewer on review duty now (the roster;
not its author; agents and team leads; online before away, then the fewest pending asks).
If it is not approved within a share (`review_escalation_percent`, default 50 %) of the
time left until the ticket's SLA deadline, the request escalates to every reviewer. With
nobody on review duty, or no deadline left, every reviewer is asked at once (as before).
The review queue orders by the ticket's deadline (tickets.views.review).
"""

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from servicedesk import roles
from staffing import actions as staffing_actions
from staffing import roster
from staffing.choices import Duty, PresenceStatus
from staffing.models import StaffMember
from tickets import access
from tickets.actions.notifications import notify
from tickets.choices import NotificationKind, ReplyStatus
from tickets.models import Reply

User = get_user_model()


def all_reviewers(reply: Reply) -> list[Any]:
    """Every human who may review `reply` (agents and team leads, not the author)."""
    return [
        user
        for user in User.objects.filter(groups__name__in=roles.STAFF_GROUPS, is_active=True)
        .exclude(pk=reply.author_id)
        .distinct()
        if access.is_asked_to_review(user)
    ]


def duty_reviewer(reply: Reply, *, now: datetime) -> Any | None:
    """The reviewer on review duty now, or None (no roster, nobody on duty but the author,
    or the one on duty is offline)."""
    holders = roster.holders_of(now, Duty.REVIEW)
    if not holders:
        return None
    candidates = [
        user
        for user in User.objects.filter(pk__in=holders - {reply.author_id}, is_active=True)
        if access.is_asked_to_review(user)
    ]
    if not candidates:
        return None
    status = dict(StaffMember.objects.filter(user__in=candidates).values_list("user_id", "status"))
    pending = dict(
        Reply.objects.filter(
            status=ReplyStatus.PENDING_REVIEW, review_requested_from__in=candidates
        )
        .values_list("review_requested_from")
        .annotate(n=Count("id"))
        .values_list("review_requested_from", "n")
    )
    rank = {PresenceStatus.ONLINE: 0, PresenceStatus.AWAY: 1}
    reachable = [user for user in candidates if status.get(user.pk) in rank]
    if not reachable:
        return None
    return min(
        reachable, key=lambda user: (rank[status[user.pk]], pending.get(user.pk, 0), user.pk)
    )


def request_review(reply: Reply, *, now: datetime) -> list[Any]:
    """Ask for the review of a just-submitted reply; returns who was notified. The caller
    saves nothing: this writes the reply's routing fields itself."""
    reviewer = duty_reviewer(reply, now=now)
    deadline = reply.ticket.sla_due_at
    if reviewer is None or deadline is None or deadline <= now:
        asked = all_reviewers(reply)
        Reply.objects.filter(pk=reply.pk).update(
            review_requested_from=None, review_escalate_at=None, review_escalated_at=now
        )
    else:
        share = staffing_actions.routing_settings().review_escalation_percent / 100
        escalate_at = now + (deadline - now) * share
        asked = [reviewer]
        Reply.objects.filter(pk=reply.pk).update(
            review_requested_from=reviewer, review_escalate_at=escalate_at, review_escalated_at=None
        )
        reply.review_requested_from, reply.review_escalate_at = reviewer, escalate_at
    notify(
        asked,
        NotificationKind.REVIEW_REQUEST,
        ticket=reply.ticket,
        at=now,
        dedupe_key=f"review:{reply.pk}:{now.isoformat()}",
        text=lambda: (
            _("A reply on ticket #%(ticket)s waits for review.") % {"ticket": reply.ticket_id}
        ),
        reply=reply.pk,
    )
    return asked


def escalate_reviews(*, now: datetime) -> int:
    """Periodic: replies still pending review past their escalation time go to every
    reviewer. Claimed by compare-and-set, so overlapping sweeps notify once."""
    escalated = 0
    due = Reply.objects.filter(
        status=ReplyStatus.PENDING_REVIEW,
        review_escalated_at__isnull=True,
        review_escalate_at__lte=now,
    ).select_related("ticket")
    for reply in due[:500]:
        claimed = Reply.objects.filter(
            Q(pk=reply.pk),
            Q(status=ReplyStatus.PENDING_REVIEW),
            Q(review_escalated_at__isnull=True),
        ).update(review_escalated_at=now)
        if not claimed:
            continue
        others = [u for u in all_reviewers(reply) if u.pk != reply.review_requested_from_id]
        notify(
            others,
            NotificationKind.REVIEW_REQUEST,
            ticket=reply.ticket,
            at=now,
            dedupe_key=f"review-escalated:{reply.pk}",
            text=lambda reply=reply: (
                _("A reply on ticket #%(ticket)s still waits for review (escalated).")
                % {"ticket": reply.ticket_id}
            ),
            reply=reply.pk,
        )
        escalated += 1
    return escalated
