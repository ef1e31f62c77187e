"""The demo desk's roster and its past (issue 16: the forecast shows the coming week against
the roster).

`ensure_roster` adds the demo team's weekly shifts when the desk has no roster yet (edits in
the admin survive). `ensure_history` fills the four full desk weeks before this week's Monday
with archived cases on an inactive archive channel: resolved tickets with their mention, a
stopped first-response clock, the sent answer (four eyes) and the transitions, so the
forecast has an hour-of-week profile and measured handling times. Only days of that window
the archive has no mention for are written, each from a random generator seeded by its date:
running the seed again changes nothing, and a seed a week later adds the missing week.

The rows are inserted in bulk (one statement per table, `servicedesk.sql.bulk_insert` and
the events' writer); the report-fact triggers count them like any other write, so the
dashboard's figures stay exact. No day of the window is today, so today's figures are
unaffected; the 30-day view shows the archive's first responses (all met) and resolutions.
"""

import json
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from crm.models import Customer, SocialIdentity
from monitoring import actions as monitoring_actions
from monitoring.adapters.demo import CORPUS_PATH
from monitoring.choices import Platform
from monitoring.models import Channel, Mention
from servicedesk.sql import bulk_insert
from staffing import actions as staffing_actions
from staffing import roster
from staffing.choices import Duty
from tickets.actions.events import write_events
from tickets.choices import (
    ReplyKind,
    ReplyStatus,
    ReplyVisibility,
    SlaKind,
    TicketEventKind,
    TicketState,
    is_handover,
)
from tickets.models import Reply, SlaClock, Ticket, TicketEvent

# --------------------------------------------------------------------------- the roster

WEEKDAYS = range(5)  # Monday to Friday
SATURDAY = 5
EVERY_DAY = tuple(range(7))
# (username, duty, weekdays, starts, ends). Both agents are on support from 06:00 to 22:00
# every day, so whoever tries auto-assignment in the demo (any day, any hour but the night)
# sees the cases spread between anton and olga; the night is nobody's, and the forecast
# marks those hours understaffed.
DEMO_ROSTER: tuple[tuple[str, str, tuple[int, ...], time, time], ...] = (
    ("clara", Duty.TRIAGE, tuple(WEEKDAYS), time(8), time(16, 30)),
    ("clara", Duty.TRIAGE, (SATURDAY,), time(10), time(14)),
    ("anton", Duty.SUPPORT, EVERY_DAY, time(6), time(22)),
    ("anton", Duty.REVIEW, tuple(WEEKDAYS), time(13, 30), time(15)),
    ("olga", Duty.SUPPORT, EVERY_DAY, time(6), time(22)),
    ("olga", Duty.REVIEW, tuple(WEEKDAYS), time(9), time(12)),
)


def ensure_roster(people: dict[str, Any]) -> int:
    """The demo team's weekly roster, when the desk keeps none yet; returns the shifts added."""
    if roster.has_roster():
        return 0
    shifts = [
        (people[username], duty, weekday, starts, ends)
        for username, duty, weekdays, starts, ends in DEMO_ROSTER
        for weekday in weekdays
    ]
    return len(staffing_actions.add_weekly_shifts(shifts))


# --------------------------------------------------------------------------- the archive

ARCHIVE_SLUG = "demo-archive"
ARCHIVE_NAME = "Demo-Verlauf (archiviert)"
HISTORY_DAYS = 28  # the forecast's four full weeks (tickets.reports.staffing.HISTORY_WEEKS)
ARCHIVE_CUSTOMERS = 160
# Mentions per day on a Monday of the window's first week; the other days relative to it.
BASE_PER_DAY = 34.0
DAY_WEIGHTS = (1.0, 1.0, 0.97, 1.0, 0.95, 0.85, 0.78)  # Monday … Sunday
TREND_PER_WEEK = 0.03  # slightly more traffic every week
# Share of a day's mentions per desk hour: quiet nights, peaks at 08–10 and 17–19.
HOUR_WEIGHTS = (
    0.25, 0.15, 0.1, 0.08, 0.08, 0.15, 0.4, 0.9,  # 00–07
    2.3, 2.4, 1.6, 1.4, 1.3, 1.3, 1.2, 1.3,  # 08–15
    1.6, 2.4, 2.5, 1.8, 1.4, 1.0, 0.7, 0.45,  # 16–23
)  # fmt: skip
CM_ANSWERS = 0.3  # share the community manager answers herself; the rest goes to Support
FIRST_RESPONSE_TARGET = 600  # the demo's past answers came within the 10-minute promise
ANSWER_TEXT = (
    "Hallo, danke für deine Nachricht! Wir haben uns das angesehen und melden uns mit der "
    "Lösung per Direktnachricht. Viele Grüße, dein Service-Team"
)


def desk_zone() -> ZoneInfo:
    return ZoneInfo(settings.DESK_TIME_ZONE)


def history_days(now: datetime) -> list[date]:
    """The desk dates of the four full weeks before this week's Monday, oldest first."""
    today = now.astimezone(desk_zone()).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(days=HISTORY_DAYS - offset) for offset in range(HISTORY_DAYS)]


def sample_texts() -> list[str]:
    """The customers' service-relevant texts of the sample corpus (synthetic)."""
    rows = [json.loads(line) for line in CORPUS_PATH.read_text("utf-8").splitlines() if line]
    return [row["text"] for row in rows if row.get("service_relevant")]


def ensure_archive_channel(admin: Any) -> Channel:
    """The inactive archive channel (never polled), created by the administrator."""
    channel = Channel.objects.filter(slug=ARCHIVE_SLUG).first()
    if channel is None:
        channel, _secret = monitoring_actions.create_channel(
            actor=admin,
            slug=ARCHIVE_SLUG,
            platform=Platform.DEMO,
            name=ARCHIVE_NAME,
            is_active=False,
        )
    return channel


def _archive_customers(channel: Channel, *, now: datetime) -> list[tuple[int, int, str]]:
    """(customer id, identity id, handle) of the archive's customer pool (made once)."""
    platform = channel.identity_platform
    known = {
        identity.handle: (identity.customer_id, identity.pk, identity.handle)
        for identity in SocialIdentity.objects.filter(platform=platform)
    }
    missing = [
        f"archiv_kunde_{index:03d}"
        for index in range(1, ARCHIVE_CUSTOMERS + 1)
        if f"archiv_kunde_{index:03d}" not in known
    ]
    customers = [Customer(display_name=handle, created_at=now) for handle in missing]
    bulk_insert(customers)
    identities = [
        SocialIdentity(
            customer_id=customer.pk,
            platform=platform,
            handle=handle,
            display_name=handle,
            created_at=now,
        )
        for customer, handle in zip(customers, missing, strict=True)
    ]
    bulk_insert(identities)
    for identity in identities:
        known[identity.handle] = (identity.customer_id, identity.pk, identity.handle)
    return [known[handle] for handle in sorted(known)]


@dataclass
class _Case:
    """One archived case, before it is written."""

    ticket: Ticket
    mention: Mention
    clock: SlaClock
    reply: Reply
    events: list[tuple[str, str, str, str, datetime, Any]]  # kind, name, from, to, at, actor


def arrivals(day: date, position: int, rng: random.Random) -> list[datetime]:
    """The day's arrival times (UTC-aware, desk hours weighted by HOUR_WEIGHTS); `position`
    is the day's place in the window (0 = oldest), which sets the trend."""
    mean = BASE_PER_DAY * DAY_WEIGHTS[day.weekday()] * (1 + TREND_PER_WEEK * (position / 7))
    count = max(0, round(rng.gauss(mean, math.sqrt(mean) / 2)))
    zone = desk_zone()
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    return sorted(
        datetime.combine(day, time(hour), tzinfo=zone) + timedelta(seconds=rng.uniform(0, 3599))
        for hour in hours
    )


def _case(
    at: datetime,
    rng: random.Random,
    *,
    channel: Channel,
    customer: tuple[int, int, str],
    text: str,
    people: dict[str, Any],
) -> _Case:
    """A case from its arrival at `at` to its resolution: either the CM answers herself, or
    she hands it to Support, an agent takes it and answers 3–7 minutes later; a second
    person approves every answer; the first response comes within the target."""
    clara, anton, olga = people["clara"], people["anton"], people["olga"]
    customer_id, identity_id, handle = customer
    events: list[tuple[str, str, str, str, datetime, Any]] = []
    events.append((TicketEventKind.OPENED, "", "", "", at, None))
    if rng.random() < CM_ANSWERS:
        author, assignee = clara, None
        submitted = at + timedelta(seconds=rng.uniform(90, 420))
        reviewer = rng.choice((anton, olga))
        state = TicketState.NEW
    else:
        author = assignee = anton if rng.random() < 0.5 else olga
        reviewer = olga if author is anton else anton
        handed = at + timedelta(seconds=rng.uniform(20, 90))
        taken = handed + timedelta(seconds=rng.uniform(10, 40))
        handling = min(420.0, max(180.0, rng.lognormvariate(math.log(300), 0.25)))
        submitted = taken + timedelta(seconds=handling)
        events.append(
            (TicketEventKind.TRANSITION, "assign_to_support", "new", "support", handed, clara)
        )
        events.append((TicketEventKind.TRANSITION, "take", "support", "in_progress", taken, author))
        state = TicketState.IN_PROGRESS
    approved = submitted + timedelta(seconds=rng.uniform(15, 40))
    sent = approved + timedelta(seconds=rng.uniform(2, 8))
    resolved = sent + timedelta(seconds=rng.uniform(60, 1800))
    events.append((TicketEventKind.TRANSITION, "resolve", state, "resolved", resolved, author))
    transitions = [event for event in events if event[0] == TicketEventKind.TRANSITION]
    posted = at - timedelta(seconds=rng.uniform(10, 120))
    ticket = Ticket(
        channel_id=channel.pk,
        customer_id=customer_id,
        assignee=assignee,
        assigned_by=clara if assignee is not None else None,
        assigned_at=transitions[0][4] if assignee is not None else None,
        state=TicketState.RESOLVED,
        preview=" ".join(text.split())[:280],
        mention_count=1,
        opened_at=at,
        posted_at=posted,
        last_mention_at=at,
        state_changed_at=resolved,
        updated_at=resolved,
        resolved_at=resolved,
        transition_count=len(transitions),
        handover_count=sum(is_handover(event[2], event[3]) for event in transitions),
    )
    mention = Mention(
        channel_id=channel.pk,
        identity_id=identity_id,
        author_handle="@" + handle,
        author_display_name=handle,
        text=text,
        created_at=posted,
        received_at=at,
        language="de",
    )
    clock = SlaClock(
        kind=SlaKind.FIRST_RESPONSE,
        started_at=at,
        posted_at=posted,
        warn_at=at + timedelta(seconds=FIRST_RESPONSE_TARGET * 0.8),
        due_at=at + timedelta(seconds=FIRST_RESPONSE_TARGET),
        stopped_at=sent,
        stopped_by=author,
    )
    created = submitted - timedelta(seconds=rng.uniform(30, 120))
    reply = Reply(
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        text=ANSWER_TEXT,
        author=author,
        reviewer=reviewer,
        reviewed_at=approved,
        status=ReplyStatus.SENT,
        created_at=created,
        updated_at=sent,
        submitted_at=submitted,
        approved_at=approved,
        sent_at=sent,
        sending_started_at=sent - timedelta(seconds=1),
        attempts=1,
        personal_data_override="",
    )
    return _Case(ticket, mention, clock, reply, events)


def ensure_history(people: dict[str, Any], *, now: datetime) -> int:
    """Archived cases for each day of the four weeks before this week's Monday that the
    archive has no mention for yet; returns the cases written."""
    channel = ensure_archive_channel(people["admin"])
    days = history_days(now)
    zone = desk_zone()
    window_start = datetime.combine(days[0], time(0), tzinfo=zone)
    window_end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=zone)
    covered = {
        received.astimezone(zone).date()
        for received in Mention.objects.filter(
            channel=channel, received_at__gte=window_start, received_at__lt=window_end
        ).values_list("received_at", flat=True)
    }
    missing = [(position, day) for position, day in enumerate(days) if day not in covered]
    if not missing:
        return 0
    texts = sample_texts()
    with transaction.atomic():
        customers = _archive_customers(channel, now=now)
        cases = []
        for position, day in missing:
            rng = random.Random(f"{ARCHIVE_SLUG}:{day.isoformat()}")
            for index, at in enumerate(arrivals(day, position, rng)):
                cases.append(
                    _case(
                        at,
                        rng,
                        channel=channel,
                        customer=rng.choice(customers),
                        text=texts[rng.randrange(len(texts))],
                        people=people,
                    )
                )
                cases[-1].mention.external_id = f"archiv-{day.isoformat()}-{index:03d}"
        _write(cases)
    return len(cases)


def _write(cases: list[_Case]) -> None:
    """One INSERT per table: tickets first, then what refers to them."""
    bulk_insert([case.ticket for case in cases])
    for case in cases:
        case.mention.ticket_id = case.ticket.pk
        case.clock.ticket_id = case.ticket.pk
        case.reply.ticket_id = case.ticket.pk
    bulk_insert([case.mention for case in cases])
    bulk_insert([case.clock for case in cases])
    for case in cases:
        case.reply.in_reply_to_mention_id = case.mention.pk
        case.reply.platform_id = f"archiv-{case.mention.pk}"
    bulk_insert([case.reply for case in cases])
    write_events(
        [
            TicketEvent(
                ticket_id=case.ticket.pk,
                kind=kind,
                transition=name,
                from_state=from_state,
                to_state=to_state,
                created_at=at,
                actor=actor,
                data={},
            )
            for case in cases
            for kind, name, from_state, to_state, at, actor in case.events
        ]
    )
