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

Cost of one decision (bench/routing.py; pinned in tests/test_routing.py): the settings with
the roster's version (one statement; the roster's rows are kept per process under that
version, staffing.roster), the agents locked as plain rows, their load counted (index
ticket_assignee_open), the cases claimed with their channel and language, then the
assignment's UPDATE and event, then per batch the agents' notices and last assignment
(one statement). The load is counted after the lock, never kept in a column, so no other write
path has to keep a counter right.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from monitoring.models import Channel, Mention
from servicedesk import roles
from servicedesk.errors import DomainError
from servicedesk.models import Profile
from servicedesk.sql import insert_rows
from staffing import actions as staffing_actions
from staffing import roster
from staffing.choices import Duty, PresenceStatus
from staffing.models import RoutingSettings, StaffMember
from tickets.actions.events import fire_transition
from tickets.actions.notifications import notification_row
from tickets.actions.review_routing import escalate_reviews
from tickets.choices import NotificationKind, TicketState
from tickets.models import Notification, Reply, Ticket, TicketEvent

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
# What the assignment needs of the agent's user: these fields (in model order, as
# CANDIDATES_SQL selects them) and the profile language of the notification.
USER_FIELDS = ("id", "username", "first_name", "last_name")


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
    """An eligible agent as plain values (no model instances: the roster has 100 of them
    and a decision needs one)."""

    user_id: int
    capacity: int
    load: int
    last_assigned_at: datetime = field(default=NEVER)
    languages: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    user_row: tuple[Any, ...] = ()  # USER_FIELDS' values, then the profile language

    def fits(self, case: CaseProfile) -> bool:
        if self.languages and case.language and case.language not in self.languages:
            return False
        if self.channels and case.channel not in self.channels:
            return False
        return not (
            self.departments and case.department and case.department not in self.departments
        )

    def user(self) -> Any:
        """The agent's user (only USER_FIELDS loaded), with the `notify_language` that
        notification_row writes the notice in (None: no profile, the desk default)."""
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, USER_FIELDS, self.user_row[:-1])
        user.notify_language = self.user_row[-1]
        return user


def _candidates_sql() -> str:
    """The eligible agents, locked in user id order, as plain rows. Written out (not the
    ORM) because it runs on every decision: the ORM's compiling cost more CPU than the
    statement does on the server (bench/routing.py)."""
    user_model = get_user_model()
    return f"""
        SELECT m.max_open, m.last_assigned_at, m.languages, m.departments, m.channels,
               u.id, u.username, u.first_name, u.last_name, p.language
        FROM {StaffMember._meta.db_table} m
        JOIN {user_model._meta.db_table} u ON u.id = m.user_id
        LEFT JOIN {Profile._meta.db_table} p ON p.user_id = m.user_id
        WHERE m.status = %(online)s AND u.is_active
          AND EXISTS (
              SELECT 1 FROM {user_model.groups.through._meta.db_table} ug
              JOIN {Group._meta.db_table} g ON g.id = ug.group_id
              WHERE ug.user_id = u.id AND g.name = %(group)s)
          AND (%(on_duty)s::integer[] IS NULL OR m.user_id = ANY(%(on_duty)s::integer[]))
          AND NOT (m.user_id = ANY(%(absent)s::integer[]))
        ORDER BY m.user_id
        FOR UPDATE OF m"""


def _loads_sql() -> str:
    """Open cases per agent: count(*) over index ticket_assignee_open (index only)."""
    return f"""
        SELECT assignee_id, count(*) FROM {Ticket._meta.db_table}
        WHERE assignee_id = ANY(%s) AND state IN %s
        GROUP BY assignee_id"""


def _claim_sql() -> str:
    """Waiting cases in SLA order (index ticket_open_queue), locked, with what the skills
    match on: the channel's slug and the language of the first mention naming one."""
    return f"""
        SELECT t.*, c.slug AS channel_slug,
               (SELECT mn.language FROM {Mention._meta.db_table} mn
                WHERE mn.ticket_id = t.id AND mn.language <> ''
                ORDER BY mn.created_at, mn.id LIMIT 1) AS first_language
        FROM {Ticket._meta.db_table} t
        JOIN {Channel._meta.db_table} c ON c.id = t.channel_id
        WHERE t.state = %s AND t.assignee_id IS NULL AND NOT (t.id = ANY(%s::integer[]))
        ORDER BY t.sla_due_at ASC NULLS LAST, t.opened_at, t.id
        LIMIT %s
        FOR UPDATE OF t SKIP LOCKED"""


CANDIDATES_SQL, LOADS_SQL, CLAIM_SQL = _candidates_sql(), _loads_sql(), _claim_sql()


def lock_candidates(now: datetime, desk: RoutingSettings, version: str) -> list[Candidate]:
    """The eligible agents, their rows locked (user id order), with their current load:
    two statements (the roster comes from the per-process cache while `version` holds).
    The load is counted after the lock, so it includes what another router committed to
    these agents while we waited for their rows."""
    on_duty = roster.holders_of(now, Duty.SUPPORT, version=version)
    today = now.astimezone(roster.desk_time_zone()).date()
    absent = roster.absent_user_ids(today, version=version)
    with connection.cursor() as cursor:
        cursor.execute(
            CANDIDATES_SQL,
            {
                "online": PresenceStatus.ONLINE.value,
                "group": roles.SUPPORT_AGENT,
                "on_duty": None if on_duty is None else sorted(on_duty),
                "absent": sorted(absent),
            },
        )
        rows = cursor.fetchall()
        cursor.execute(LOADS_SQL, [[row[5] for row in rows], tuple(s.value for s in LOAD_STATES)])
        loads = dict(cursor.fetchall())
    return [
        Candidate(
            user_id=user_row[0],
            capacity=max_open if max_open is not None else desk.max_open_per_agent,
            load=loads.get(user_row[0], 0),
            last_assigned_at=last_assigned_at or NEVER,
            languages=tuple(languages),
            departments=tuple(departments),
            channels=tuple(channels),
            user_row=tuple(user_row),
        )
        for max_open, last_assigned_at, languages, departments, channels, *user_row in rows
    ]


def choose(candidates: list[Candidate], case: CaseProfile) -> Candidate | None:
    """Least loaded first, ties by longest idle, then by user id (stable)."""
    fitting = [c for c in candidates if c.load < c.capacity and c.fits(case)]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (c.load, c.last_assigned_at, c.user_id))


def claim_waiting(skipped: set[int], size: int) -> list[Ticket]:
    """Up to `size` waiting cases in SLA order, locked (FOR UPDATE SKIP LOCKED: a case
    another router holds is left to it), each with `channel_slug` and `first_language`.
    One statement."""
    return list(Ticket.objects.raw(CLAIM_SQL, [TicketState.SUPPORT.value, sorted(skipped), size]))


def case_profile(ticket: Ticket) -> CaseProfile:
    """The profile of a case claimed by claim_waiting."""
    language = (ticket.first_language or "").lower().split("-")[0]
    return CaseProfile(language=language, channel=ticket.channel_slug)


def route_waiting(*, now: datetime, limit: int | None = None) -> int:
    """Assign waiting support cases while agents have capacity. Returns how many."""
    desk, version = staffing_actions.routing_state()
    if not desk.auto_assign:
        return 0
    assigned = 0
    skipped: set[int] = set()
    while limit is None or assigned < limit:
        batch_assigned, batch_skipped, more = _route_batch(
            now, desk, version, skipped, limit, assigned
        )
        assigned += batch_assigned
        skipped |= batch_skipped
        if not more:
            break
    return assigned


@transaction.atomic
def _route_batch(
    now: datetime,
    desk: RoutingSettings,
    version: str,
    skipped: set[int],
    limit: int | None,
    done: int,
) -> tuple[int, set[int], bool]:
    """One transaction: lock the agents, claim up to BATCH waiting cases, assign what fits.
    Returns (assigned, skipped for want of a fitting agent, whether to go on)."""
    candidates = lock_candidates(now, desk, version)
    if not any(c.load < c.capacity for c in candidates):
        return 0, set(), False
    size = BATCH if limit is None else min(BATCH, limit - done)
    tickets = claim_waiting(skipped, size)
    if not tickets:
        return 0, set(), False
    assigned, unfit, more = 0, set(), True
    chosen_ids: set[int] = set()
    notices: list[Notification] = []
    for ticket in tickets:
        chosen = choose(candidates, case_profile(ticket))
        if chosen is None:
            if not any(c.load < c.capacity for c in candidates):
                more = False
                break
            unfit.add(ticket.pk)
            continue
        notices.append(_assign(ticket, chosen, now=now))
        chosen_ids.add(chosen.user_id)
        assigned += 1
    # The agents' notices and last assignment, once per batch (same transaction, their rows
    # locked above).
    if chosen_ids:
        _record_assignments(notices, chosen_ids, now=now)
    return assigned, unfit, more


def _record_assignments(notices: list[Notification], user_ids: set[int], *, now: datetime) -> None:
    """The agents' notices and their last assignment: one statement (the INSERT as a
    data-modifying WITH of the UPDATE)."""
    table, columns, rows = insert_rows(notices)
    row = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH notices AS (INSERT INTO {table} ({columns}) VALUES "
            f"{', '.join([row] * len(rows))}) "
            f"UPDATE {StaffMember._meta.db_table} SET last_assigned_at = %s "
            "WHERE user_id = ANY(%s)",
            [value for values in rows for value in values] + [now, sorted(user_ids)],
        )


def _assign(ticket: Ticket, chosen: Candidate, *, now: datetime) -> Notification:
    """The `take` by routing; returns the agent's notice (unsaved: written once per batch)."""
    agent = chosen.user()
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
        already_locked=True,
    )
    chosen.load += 1
    chosen.last_assigned_at = now
    return notification_row(
        agent,
        NotificationKind.ASSIGNED,
        ticket_id=ticket.pk,
        at=now,
        key="",
        text=lambda: (
            _("Ticket #%(ticket)s was assigned to you automatically.") % {"ticket": ticket.pk}
        ),
        email=False,
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
