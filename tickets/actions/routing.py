"""Routing of support cases (issue 16, point 3): who gets which case.

With the desk's `auto_assign` on (staffing.RoutingSettings), a case waiting in the Support
pool (state `support`, no assignee) goes to an agent who is online, on support duty now (the
roster; a desk without a roster: every agent), not out of office, under capacity (open cases
in LOAD_STATES below his `max_open`, else the desk's `max_open_per_agent`) and whose skills
(languages, departments, channels; empty = any) fit the case: least loaded first, ties by
longest idle (oldest last assignment). Waiting cases are taken oldest SLA deadline first.

Every assignment is the `take` transition fired by the system, with the event note
"automatisch zugewiesen: geringste Last" and `assigned_by_routing` set.

Concurrency: a routing batch locks the rows of every eligible agent (staffing.StaffMember,
in user id order, so two routers queue instead of deadlocking) before it counts their cases,
then claims waiting tickets with FOR UPDATE SKIP LOCKED. Two workers therefore never assign
one case twice and never overfill an agent; a presence change (which locks the same row)
is seen before or after a batch, never in the middle, so nobody is assigned while offline.
Lock order elsewhere is ticket before agent row (take_ticket); routing never waits on a
ticket lock (SKIP LOCKED), so the two orders cannot deadlock.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils.translation import gettext as _

from monitoring.models import Mention
from servicedesk import roles
from servicedesk.errors import DomainError
from staffing import actions as staffing_actions
from staffing import roster
from staffing.choices import Duty, PresenceStatus
from staffing.models import RoutingSettings, StaffMember
from tickets.actions.events import fire_transition
from tickets.actions.notifications import notify
from tickets.actions.review_routing import escalate_reviews
from tickets.choices import NotificationKind, TicketState
from tickets.models import Reply, Ticket, TicketEvent

logger = logging.getLogger(__name__)

# The states in which an assigned case counts against the agent's capacity. A Wiedervorlage
# waits days for its date and is not counted.
LOAD_STATES = (
    TicketState.IN_PROGRESS,
    TicketState.WAITING_CUSTOMER,
    TicketState.WAITING_DEPARTMENT,
)
BATCH = 200  # waiting cases claimed per transaction
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CaseProfile:
    """What the skills match on (an unknown value matches every skill). `department` is
    the seam for the triage suggestion (issue 13): today no ticket field names a
    department before a request is sent, so it is None and department skills do not
    narrow the choice yet."""

    language: str
    channel: str
    department: str | None = None


@dataclass
class Candidate:
    member: StaffMember
    capacity: int
    load: int
    last_assigned_at: datetime = field(default=NEVER)

    def fits(self, case: CaseProfile) -> bool:
        member = self.member
        if member.languages and case.language and case.language not in member.languages:
            return False
        if member.channels and case.channel not in member.channels:
            return False
        return not (
            member.departments and case.department and case.department not in member.departments
        )


def case_profiles(tickets: list[Ticket]) -> dict[int, CaseProfile]:
    """One query for the languages (of each ticket's first mention that names one)."""
    languages: dict[int, str] = {}
    rows = (
        Mention.objects.filter(ticket_id__in=[ticket.pk for ticket in tickets])
        .exclude(language="")
        .order_by("ticket_id", "created_at", "id")
        .distinct("ticket_id")
        .values_list("ticket_id", "language")
    )
    for ticket_id, language in rows:
        languages[ticket_id] = language.lower().split("-")[0]
    return {
        ticket.pk: CaseProfile(language=languages.get(ticket.pk, ""), channel=ticket.channel.slug)
        for ticket in tickets
    }


def lock_candidates(now: datetime, desk: RoutingSettings) -> list[Candidate]:
    """The eligible agents, their rows locked (user id order), with their current load."""
    members = StaffMember.objects.filter(
        status=PresenceStatus.ONLINE,
        user__is_active=True,
        user__groups__name=roles.SUPPORT_AGENT,
    )
    on_duty = roster.holders_of(now, Duty.SUPPORT)
    if on_duty is not None:
        members = members.filter(user_id__in=on_duty)
    absent = roster.absent_user_ids(now.astimezone(roster.desk_time_zone()).date())
    if absent:
        members = members.exclude(user_id__in=absent)
    locked = list(
        members.select_related("user").select_for_update(of=("self",)).order_by("user_id")
    )
    loads = dict(
        Ticket.objects.filter(assignee_id__in=[m.user_id for m in locked], state__in=LOAD_STATES)
        .values_list("assignee_id")
        .annotate(count=Count("id"))
        .values_list("assignee_id", "count")
    )
    return [
        Candidate(
            member=member,
            capacity=member.max_open if member.max_open is not None else desk.max_open_per_agent,
            load=loads.get(member.user_id, 0),
            last_assigned_at=member.last_assigned_at or NEVER,
        )
        for member in locked
    ]


def choose(candidates: list[Candidate], case: CaseProfile) -> Candidate | None:
    """Least loaded first, ties by longest idle, then by user id (stable)."""
    fitting = [c for c in candidates if c.load < c.capacity and c.fits(case)]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (c.load, c.last_assigned_at, c.member.user_id))


def waiting_cases() -> Any:
    """The Support pool in SLA order (index ticket_open_queue)."""
    return Ticket.objects.filter(state=TicketState.SUPPORT, assignee__isnull=True).order_by(
        F("sla_due_at").asc(nulls_last=True), "opened_at", "id"
    )


def route_waiting(*, now: datetime, limit: int | None = None) -> int:
    """Assign waiting support cases while agents have capacity. Returns how many."""
    desk = staffing_actions.routing_settings()
    if not desk.auto_assign:
        return 0
    assigned = 0
    skipped: set[int] = set()
    while limit is None or assigned < limit:
        batch_assigned, batch_skipped, more = _route_batch(now, desk, skipped, limit, assigned)
        assigned += batch_assigned
        skipped |= batch_skipped
        if not more:
            break
    return assigned


@transaction.atomic
def _route_batch(
    now: datetime, desk: RoutingSettings, skipped: set[int], limit: int | None, done: int
) -> tuple[int, set[int], bool]:
    """One transaction: lock the agents, claim up to BATCH waiting cases, assign what fits.
    Returns (assigned, skipped for want of a fitting agent, whether to go on)."""
    candidates = lock_candidates(now, desk)
    if not any(c.load < c.capacity for c in candidates):
        return 0, set(), False
    size = BATCH if limit is None else min(BATCH, limit - done)
    tickets = list(
        waiting_cases()
        .exclude(pk__in=skipped)
        .select_related("channel")
        .select_for_update(skip_locked=True, of=("self",))[:size]
    )
    if not tickets:
        return 0, set(), False
    profiles = case_profiles(tickets)
    assigned, unfit, more = 0, set(), True
    chosen_members: dict[int, StaffMember] = {}
    for ticket in tickets:
        chosen = choose(candidates, profiles[ticket.pk])
        if chosen is None:
            if not any(c.load < c.capacity for c in candidates):
                more = False
                break
            unfit.add(ticket.pk)
            continue
        _assign(ticket, chosen, now=now)
        chosen_members[chosen.member.pk] = chosen.member
        assigned += 1
    # The agents' last assignment, once per batch (same transaction, rows locked above).
    for member in chosen_members.values():
        member.last_assigned_at = now
    StaffMember.objects.bulk_update(chosen_members.values(), ["last_assigned_at"])
    return assigned, unfit, more


def _assign(ticket: Ticket, chosen: Candidate, *, now: datetime) -> None:
    agent = chosen.member.user
    fire_transition(
        ticket,
        "take",
        actor=None,
        at=now,
        assignee=agent,
        by=None,
        note=_("assigned automatically: least load"),
        update_fields=["assignee", "assigned_by", "assigned_by_routing", "assigned_at"],
        event_data={
            "assignee": agent.pk,
            "assigned_by": "routing",
            "rule": "least_load",
            "load_before": chosen.load,
            "capacity": chosen.capacity,
        },
    )
    chosen.load += 1
    chosen.last_assigned_at = now
    notify(
        [agent],
        NotificationKind.ASSIGNED,
        ticket=ticket,
        at=now,
        text=lambda: (
            _("Ticket #%(ticket)s was assigned to you automatically.") % {"ticket": ticket.pk}
        ),
    )


# --------------------------------------------------------------------------- giving back


def untaken_cases(user_ids: Any) -> Any:
    """Cases routing gave to these agents that they have not touched since: still
    in_progress, no event and no reply of theirs after the assignment."""
    touched = TicketEvent.objects.filter(
        ticket=OuterRef("pk"),
        actor_id=OuterRef("assignee_id"),
        created_at__gte=OuterRef("assigned_at"),
    )
    replied = Reply.objects.filter(ticket=OuterRef("pk"), author_id=OuterRef("assignee_id"))
    return Ticket.objects.filter(
        assignee_id__in=user_ids,
        state=TicketState.IN_PROGRESS,
        assigned_by_routing=True,
    ).filter(~Exists(touched), ~Exists(replied))


def return_untaken(user_ids: Any, *, now: datetime) -> int:
    """Give the untaken cases of agents who are no longer online back to routing (the
    `release` transition by the system). Each in its own transaction; a case someone moved
    meanwhile is left alone. Returns how many went back."""
    returned = 0
    for ticket in untaken_cases(user_ids).select_related("assignee").order_by("id"):
        status = (
            StaffMember.objects.filter(user_id=ticket.assignee_id)
            .values_list("status", flat=True)
            .first()
        )
        if status == PresenceStatus.ONLINE:
            continue
        name = ticket.assignee.get_full_name() or ticket.assignee.get_username()
        try:
            with transaction.atomic():
                fire_transition(
                    ticket,
                    "release",
                    actor=None,
                    at=now,
                    note=_("back to routing: %(name)s is %(status)s")
                    % {"name": name, "status": PresenceStatus(status or "offline").label},
                    update_fields=["assignee", "assigned_by", "assigned_by_routing", "assigned_at"],
                    event_data={
                        "assigned_by": "routing",
                        "rule": "agent_not_online",
                        "previous": ticket.assignee_id,
                    },
                )
        except DomainError:
            logger.info("ticket %s moved meanwhile; not returned", ticket.pk)
            continue
        returned += 1
    return returned


def agents_not_online() -> Any:
    return StaffMember.objects.exclude(status=PresenceStatus.ONLINE).values("user_id")


def presence_changed(user_id: int | None, *, now: datetime) -> int:
    """After a presence change (or the routing switch, user_id None): give back what an
    agent who left holds untaken, then route. Returns assignments + returns."""
    changed = 0
    desk = staffing_actions.routing_settings()
    if desk.auto_assign and user_id is not None:
        member = StaffMember.objects.filter(user_id=user_id).first()
        if member is not None and member.status != PresenceStatus.ONLINE:
            changed += return_untaken([user_id], now=now)
    return changed + route_waiting(now=now)


def routing_sweep(*, now: datetime) -> int:
    """Periodic (with the SLA sweep): presence from inactivity, review requests escalated,
    cases of agents who are no longer online back to routing, then the pool routed. What a
    lost task would have done."""
    changed = staffing_actions.sweep_presence(now=now)
    changed += escalate_reviews(now=now)
    desk = staffing_actions.routing_settings()
    if not desk.auto_assign:
        return changed
    changed += return_untaken(agents_not_online(), now=now)
    return changed + route_waiting(now=now)
