"""Incidents (issue 14): a burst of complaints becomes one incident, answered as one.

- `apply_burst_signals`: what the burst detector (`triage.bursts.observe`) found, applied:
  an opened cluster opens a detected incident with its members, later members join it;
- `open_incident` by hand (CMs, team leads), `add_incident_member` / `remove_incident_member`
  (CMs, team leads), `close_incident` with a summary;
- `write_statement` / `approve_statement`: the public holding or resolution statement,
  written once and approved once by a second person (four eyes), then sent to every member
  mention as its own reply through the outbox (`deliver_statement`), and to members that
  join later while the holding statement is active; each sent reply stops that ticket's
  response clocks as any sent reply does;
- the alert at opening: in-app and e-mail to the team leads (the notifications' e-mail path)
  and an e-mail to the desk's crisis contacts (`INCIDENT_CRISIS_CONTACTS`), once per incident;
- after a member's resolution reply is sent, its ticket resolves unless it has open
  questions of its own (`own_open_questions`).
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from monitoring.adapters import adapter_for
from monitoring.health import private_reply_problem
from monitoring.models import Mention
from servicedesk import roles
from servicedesk.errors import (
    InvalidArgument,
    InvalidTransition,
    NotAllowedForRole,
    SelfApprovalNotAllowed,
)
from servicedesk.queue import enqueue_on_commit
from tickets import access
from tickets.actions.clocks import cancel_running_clocks
from tickets.actions.events import fire_transition, record_event, require_text, write_events
from tickets.actions.notifications import notify, users_in_group
from tickets.choices import (
    OPEN_STATES,
    STATEMENT_REPLY_KIND,
    DepartmentRequestStatus,
    IncidentState,
    NotificationKind,
    ReplyStatus,
    ReplyStep,
    ReplyVisibility,
    StatementKind,
    StatementStatus,
    TicketEventKind,
    TicketState,
)
from tickets.models import (
    DepartmentRequest,
    Incident,
    IncidentDelivery,
    IncidentMember,
    IncidentStatement,
    Reply,
    Ticket,
    TicketEvent,
)
from tickets.reply_context import render_template_text
from triage import bursts
from triage.models import BurstObservation

logger = logging.getLogger(__name__)

ALERT_CRISIS_CONTACTS_TASK = "tickets.tasks.alert_crisis_contacts_task"
SEND_REPLIES_TASK = "tickets.tasks.send_replies_task"
# Replies of a statement per send task: 500 members are 20 messages (one broker round trip
# each) that the workers share, instead of 500.
STATEMENT_SEND_CHUNK = 25
TITLE_MAX_CHARS = 200
STATEMENT_MAX_CHARS = 5000
SUMMARY_MAX_CHARS = 10000
MEMBERS_PER_CALL = 1000  # mention ids one add/open call accepts (the API's batch limit)

# The states a member ticket resolves from after its resolution reply (the `resolve` rule).
RESOLVABLE_STATES = (TicketState.NEW, TicketState.IN_PROGRESS, TicketState.RESUBMISSION)

# Why a member ticket stays open after the resolution statement (shown on the incident page).
OPEN_QUESTION_LABELS = {
    "department_request": gettext_lazy("open department request"),
    "private_data": gettext_lazy("waiting for the customer's private data"),
    "own_message": gettext_lazy("a later message of its own"),
    "state": gettext_lazy("not resolvable in its state"),
}


# --------------------------------------------------------------------------- capabilities


def may_open_incidents(user: Any) -> bool:
    """CMs and team leads open incidents by hand and change their members."""
    return roles.is_community_manager(user) or roles.is_team_lead(user)


def _ensure_may_manage(actor: Any) -> None:
    if not may_open_incidents(actor) or roles.is_api_client(actor):
        raise NotAllowedForRole(_("Only CMs and team leads manage incidents."))


def _lock_incident(incident: Incident) -> Incident:
    """The incident's row, locked after its burst's brand: the detector holds the brand's
    lock while it adds members to the incident, so this order never deadlocks with it."""
    if incident.cluster_id is not None:
        bursts.lock_brand(incident.cluster_id)
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _ensure_open(incident: Incident) -> None:
    if incident.state != IncidentState.OPEN:
        raise InvalidTransition(_("The incident is closed."))


def _title(title: str) -> str:
    title = require_text(title, "title")
    if len(title) > TITLE_MAX_CHARS:
        raise InvalidArgument(
            _("At most %(limit)s characters.") % {"limit": TITLE_MAX_CHARS}, field="title"
        )
    return title


# --------------------------------------------------------------------------- opening


def _create_incident(
    *,
    title: str,
    started_at: datetime,
    now: datetime,
    actor: Any,
    signal: Any = None,
) -> Incident:
    fields: dict[str, Any] = {}
    if signal is not None:
        fields = {
            "detected": True,
            "cluster_id": signal.cluster_id,
            "reasons": list(signal.reasons),
            "terms": list(signal.terms),
            "locations": list(signal.locations),
            "volume_per_minute": signal.volume_per_minute,
            "baseline_per_minute": signal.baseline_per_minute,
        }
    incident = Incident.objects.create(
        title=title[:TITLE_MAX_CHARS],
        started_at=started_at,
        opened_at=now,
        opened_by=actor,
        updated_at=now,
        **fields,
    )
    _alert_team_leads(incident, now=now)
    enqueue_on_commit(ALERT_CRISIS_CONTACTS_TASK, incident.pk)
    return incident


@transaction.atomic
def open_incident(
    *, actor: Any, title: str, mention_ids: Sequence[int] = (), now: datetime | None = None
) -> Incident:
    """A CM or team lead opens an incident by hand, with the given member mentions (those in
    another incident or without a ticket are left out). Alerts as a detected one does.
    Refuses NotAllowedForRole and InvalidArgument (blank title, unknown mentions)."""
    _ensure_may_manage(actor)
    title = _title(title)
    now = now or timezone.now()
    mentions = _member_candidates(mention_ids, actor=actor)
    started_at = min((mention.created_at for mention in mentions), default=now)
    incident = _create_incident(title=title, started_at=started_at, now=now, actor=actor)
    _join(incident, mentions, actor=actor, now=now)
    return incident


def _member_candidates(mention_ids: Sequence[int], *, actor: Any) -> list[Mention]:
    ids = sorted(set(mention_ids))
    if len(ids) > MEMBERS_PER_CALL:
        raise InvalidArgument(
            _("At most %(limit)s mentions at once.") % {"limit": MEMBERS_PER_CALL},
            field="mentions",
        )
    mentions = list(access.visible_mentions(actor).filter(pk__in=ids)) if ids else []
    if len(mentions) != len(ids):
        raise InvalidArgument(_("Unknown mention."), field="mentions")
    return mentions


@transaction.atomic
def detect_incidents(mention_ids: Sequence[int], *, now: datetime) -> list[Incident]:
    """Feed new mentions to the burst detector and apply what it signals, in one transaction
    (the detector's state and the incidents commit together). Safe twice: `observe` is
    idempotent and so is `apply_burst_signals`."""
    return apply_burst_signals(bursts.observe(sorted(set(mention_ids)), now=now), now=now)


# The sweep behind `detect_incidents_task` (DESIGN §5: nothing is lost when a broker message
# is): customer posts of the last hour the detector has not seen, oldest first.
DETECTION_SWEEP_WINDOW = timedelta(hours=1)
DETECTION_SWEEP_GRACE = timedelta(seconds=30)  # leave the intake's own task its moment
DETECTION_SWEEP_BATCH = 500


def sweep_unobserved_mentions(*, now: datetime, limit: int = DETECTION_SWEEP_BATCH) -> int:
    """Feed the detector the recent customer posts whose task was lost (one indexed
    statement on `mention_received` and the observations' primary key); returns how many."""
    ids = list(
        Mention.objects.filter(
            received_at__gte=now - DETECTION_SWEEP_WINDOW,
            received_at__lt=now - DETECTION_SWEEP_GRACE,
            ticket__isnull=False,
            is_own_account=False,
        )
        .filter(~Exists(BurstObservation.objects.filter(mention_id=OuterRef("pk"))))
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        detect_incidents(ids, now=now)
    return len(ids)


@transaction.atomic
def apply_burst_signals(signals: Sequence[Any], *, now: datetime) -> list[Incident]:
    """Apply the detector's `BurstSignal`s (triage.bursts): an `opened` signal opens a
    detected incident with the cluster's members (title, reasons, terms, locations, volume);
    any signal adds its new members to the cluster's open incident. A cluster whose incident
    is closed adds nobody (its aftermath). Idempotent: one incident per cluster, one
    membership per mention. Returns the incidents opened or joined."""
    touched: list[Incident] = []
    for signal in signals:
        incident = Incident.objects.select_for_update().filter(cluster_id=signal.cluster_id).first()
        if incident is None:
            if not signal.opened:
                continue
            incident = _adopted_incident(signal) or _create_incident(
                title=signal.title or _("Burst of similar posts"),
                started_at=signal.started_at,
                now=now,
                actor=None,
                signal=signal,
            )
            mention_ids = signal.mention_ids
        else:
            mention_ids = signal.new_mention_ids
        if incident.state != IncidentState.OPEN:
            continue
        mentions = list(Mention.objects.filter(pk__in=sorted(set(mention_ids))))
        _join(incident, mentions, actor=None, now=now)
        touched.append(incident)
    return touched


def _adopted_incident(signal: Any) -> Incident | None:
    """An open incident a person opened by hand for the same posts takes the cluster, so the
    desk has one incident for one burst."""
    incident = (
        Incident.objects.select_for_update()
        .filter(
            state=IncidentState.OPEN,
            cluster_id__isnull=True,
            members__mention_id__in=list(signal.mention_ids),
        )
        .order_by("opened_at")
        .first()
    )
    if incident is None:
        return None
    incident.cluster_id = signal.cluster_id
    incident.detected = True
    incident.reasons = list(signal.reasons)
    incident.terms = list(signal.terms)
    incident.locations = list(signal.locations)
    incident.volume_per_minute = signal.volume_per_minute
    incident.baseline_per_minute = signal.baseline_per_minute
    incident.save(
        update_fields=["cluster_id", "detected", "reasons", "terms", "locations"]
        + ["volume_per_minute", "baseline_per_minute"]
    )
    return incident


# --------------------------------------------------------------------------- members


def _join(incident: Incident, mentions: Iterable[Mention], *, actor: Any, now: datetime) -> int:
    """Make `mentions` members (those with a ticket, not the channel's own posts, not in an
    incident yet); each joined ticket gets an event; the active holding statement goes to
    the newcomers. Returns how many joined."""
    candidates = {
        mention.pk: mention
        for mention in mentions
        if mention.ticket_id is not None and not mention.is_own_account
    }
    taken = set(
        IncidentMember.objects.filter(mention_id__in=list(candidates)).values_list(
            "mention_id", flat=True
        )
    )
    rows = [
        IncidentMember(
            incident=incident,
            mention_id=mention.pk,
            ticket_id=mention.ticket_id,
            joined_at=now,
            added_by=actor,
        )
        for mention_id, mention in sorted(candidates.items())
        if mention_id not in taken
    ]
    if not rows:
        return 0
    # Two detector runs at once: the unique mention makes the second insert a no-op.
    created = IncidentMember.objects.bulk_create(rows, ignore_conflicts=True)
    write_events(
        [
            TicketEvent(
                ticket_id=row.ticket_id,
                kind=TicketEventKind.INCIDENT,
                actor=actor,
                created_at=now,
                data={"incident": incident.pk, "mention": row.mention_id, "step": "joined"},
            )
            for row in created
        ]
    )
    earliest = min(candidates[row.mention_id].created_at for row in created)
    fields = ["updated_at"]
    incident.updated_at = now
    if earliest < incident.started_at:
        incident.started_at = earliest
        fields.append("started_at")
    incident.save(update_fields=fields)
    active = active_statement(incident)
    if active is not None:
        deliver_statement(active, mention_ids=[row.mention_id for row in created], now=now)
    return len(created)


@transaction.atomic
def add_incident_member(incident: Incident, mention: Mention, *, actor: Any) -> IncidentMember:
    """A CM or team lead adds a mention to an open incident (the detector learns it too).
    Refuses NotAllowedForRole, InvalidTransition (closed) and InvalidArgument (no ticket,
    own post, or already in an incident)."""
    _ensure_may_manage(actor)
    incident = _lock_incident(incident)
    _ensure_open(incident)
    if mention.ticket_id is None or mention.is_own_account:
        raise InvalidArgument(_("Only customers' posts join an incident."), field="mention")
    if IncidentMember.objects.filter(mention=mention).exists():
        raise InvalidArgument(_("This mention already belongs to an incident."), field="mention")
    now = timezone.now()
    _join(incident, [mention], actor=actor, now=now)
    if incident.cluster_id is not None:
        bursts.add_member(incident.cluster_id, mention.pk)
    return IncidentMember.objects.get(mention=mention)


@transaction.atomic
def remove_incident_member(incident: Incident, mention: Mention, *, actor: Any) -> Incident:
    """A CM or team lead takes a mention out of an open incident (the detector forgets it,
    so it does not join again); replies already sent stay sent. Refuses NotAllowedForRole,
    InvalidTransition (closed) and InvalidArgument (not a member)."""
    _ensure_may_manage(actor)
    incident = _lock_incident(incident)
    _ensure_open(incident)
    member = IncidentMember.objects.filter(incident=incident, mention=mention).first()
    if member is None:
        raise InvalidArgument(_("This mention is not a member."), field="mention")
    now = timezone.now()
    member.delete()
    record_event(
        member.ticket_id,
        TicketEventKind.INCIDENT,
        actor=actor,
        at=now,
        incident=incident.pk,
        mention=mention.pk,
        step="removed",
    )
    if incident.cluster_id is not None:
        bursts.remove_member(incident.cluster_id, mention.pk)
    incident.updated_at = now
    incident.save(update_fields=["updated_at"])
    return incident


# --------------------------------------------------------------------------- statements


def active_statement(incident: Incident) -> IncidentStatement | None:
    """The holding statement newcomers receive: the newest approved one, while open."""
    if incident.state != IncidentState.OPEN:
        return None
    return (
        incident.statements.filter(kind=StatementKind.HOLDING, status=StatementStatus.APPROVED)
        .order_by("-approved_at", "-id")
        .first()
    )


@transaction.atomic
def write_statement(incident: Incident, *, actor: Any, kind: str, text: str) -> IncidentStatement:
    """Write the incident's holding or resolution statement (placeholders {name}, {handle}
    and {agent} are filled per recipient); it waits for a second person's approval. Refuses
    NotAllowedForRole (not desk staff), InvalidTransition (closed) and InvalidArgument."""
    if not access.may_draft_replies(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads write statements."))
    if kind not in StatementKind.values:
        raise InvalidArgument(_("Unknown kind."), field="kind")
    text = require_text(text, "text")
    if len(text) > STATEMENT_MAX_CHARS:
        raise InvalidArgument(
            _("At most %(limit)s characters.") % {"limit": STATEMENT_MAX_CHARS}, field="text"
        )
    incident = _lock_incident(incident)
    _ensure_open(incident)
    now = timezone.now()
    return IncidentStatement.objects.create(
        incident=incident, kind=kind, text=text, author=actor, created_at=now
    )


@transaction.atomic
def approve_statement(statement: IncidentStatement, *, actor: Any) -> IncidentStatement:
    """A second person approves a statement (four eyes). A holding statement goes out at once
    to every member; a resolution statement goes out when the incident is closed. Refuses
    SelfApprovalNotAllowed (the author), NotAllowedForRole (api clients, experts) and
    InvalidTransition (already approved, incident closed)."""
    if not access.may_review_replies(actor):
        raise NotAllowedForRole(_("Only CMs, agents and team leads approve statements."))
    if statement.author_id == actor.pk:
        raise SelfApprovalNotAllowed()
    incident = _lock_incident(statement.incident)
    _ensure_open(incident)
    statement = IncidentStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status != StatementStatus.PENDING_APPROVAL:
        raise InvalidTransition(_("Only a statement waiting for approval can be approved."))
    now = timezone.now()
    statement.approve(by=actor, at=now)
    statement.save(update_fields=["status", "approved_by", "approved_at"])
    if statement.kind == StatementKind.HOLDING:
        deliver_statement(statement, mention_ids=None, now=now)
    return statement


@transaction.atomic
def deliver_statement(
    statement: IncidentStatement, *, mention_ids: Sequence[int] | None, now: datetime
) -> int:
    """One approved reply per member mention (all members, or `mention_ids`) that has none for
    this statement yet, on an open ticket; the outbox sends each after commit. The tickets are
    locked (by id) before their replies; the delivery rows are unique per statement and
    mention. Returns how many replies were queued (in chunks of STATEMENT_SEND_CHUNK per
    send task)."""
    statement = IncidentStatement.objects.select_for_update().get(pk=statement.pk)
    members = IncidentMember.objects.filter(incident_id=statement.incident_id)
    if mention_ids is not None:
        members = members.filter(mention_id__in=list(mention_ids))
    already = IncidentDelivery.objects.filter(statement=statement).values("mention_id")
    targets = list(
        members.exclude(mention_id__in=already).select_related(
            "mention", "ticket__channel", "ticket__customer"
        )
    )
    if not targets:
        return 0
    ticket_ids = sorted({member.ticket_id for member in targets})
    open_ids = set(
        Ticket.objects.select_for_update()
        .filter(pk__in=ticket_ids, state__in=OPEN_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    kind = STATEMENT_REPLY_KIND[statement.kind]
    replies, deliveries, events = [], [], []
    for member in targets:
        if member.ticket_id not in open_ids:
            continue
        reply = _statement_reply(statement, member, kind=kind, now=now)
        if reply is None:
            continue
        replies.append(reply)
    Reply.objects.bulk_create(replies)
    for reply in replies:
        deliveries.append(
            IncidentDelivery(
                statement=statement,
                mention_id=reply.in_reply_to_mention_id,
                reply=reply,
                created_at=now,
            )
        )
        events.append(
            TicketEvent(
                ticket_id=reply.ticket_id,
                kind=TicketEventKind.REPLY,
                actor=statement.approved_by,
                created_at=now,
                data={
                    "reply": reply.pk,
                    "step": ReplyStep.APPROVED,
                    "visibility": reply.visibility,
                    "reply_kind": kind,
                    "incident": statement.incident_id,
                    "statement": statement.pk,
                },
            )
        )
    IncidentDelivery.objects.bulk_create(deliveries)
    write_events(events)
    due = [reply.pk for reply in replies if reply.next_attempt_at is not None]
    for start in range(0, len(due), STATEMENT_SEND_CHUNK):
        enqueue_on_commit(SEND_REPLIES_TASK, due[start : start + STATEMENT_SEND_CHUNK])
    return len(replies)


def _statement_reply(
    statement: IncidentStatement, member: IncidentMember, *, kind: str, now: datetime
) -> Reply | None:
    """The unsaved, approved reply of `statement` to one member (None when a direct message
    cannot reach this author): its text filled for the member's author."""
    mention, ticket = member.mention, member.ticket
    visibility = ReplyVisibility.PRIVATE if mention.is_private else ReplyVisibility.PUBLIC
    if visibility == ReplyVisibility.PRIVATE and private_reply_problem(
        ticket.channel,
        platform_user_id=mention.author_platform_user_id,
        is_private_conversation=mention.is_private,
    ):
        return None
    capability = "reply_private" if visibility == ReplyVisibility.PRIVATE else "reply_public"
    posted_by_hand = capability not in adapter_for(ticket.channel).capabilities
    return Reply(
        ticket=ticket,
        in_reply_to_mention=mention,
        visibility=visibility,
        kind=kind,
        text=render_template_text(
            statement, ticket=ticket, actor=statement.author, mention=mention
        ),
        author=statement.author,
        status=ReplyStatus.APPROVED,  # approved once, as the statement (four eyes)
        reviewer=statement.approved_by,
        reviewed_at=now,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        approved_at=now,
        # Hand-posted channels: nothing for the outbox; the author posts and confirms.
        next_attempt_at=None if posted_by_hand else now,
    )


# --------------------------------------------------------------------------- closing


@transaction.atomic
def close_incident(incident: Incident, *, actor: Any, summary: str) -> Incident:
    """Close the incident with a summary; its approved resolution statement (if any) goes to
    every member, whose tickets then resolve once their reply is sent, unless they have open
    questions of their own. The detector ends the cluster: later posts are its aftermath.
    Refuses NotAllowedForRole, InvalidTransition (closed already) and InvalidArgument (a
    resolution statement still waiting for approval)."""
    _ensure_may_manage(actor)
    summary = require_text(summary, "summary")
    if len(summary) > SUMMARY_MAX_CHARS:
        raise InvalidArgument(
            _("At most %(limit)s characters.") % {"limit": SUMMARY_MAX_CHARS}, field="summary"
        )
    incident = _lock_incident(incident)
    _ensure_open(incident)
    statements = incident.statements.filter(kind=StatementKind.RESOLUTION)
    if statements.filter(status=StatementStatus.PENDING_APPROVAL).exists():
        raise InvalidArgument(
            _("The resolution statement still waits for approval."), field="summary"
        )
    now = timezone.now()
    incident.close(by=actor, summary=summary, at=now)
    incident.updated_at = now
    incident.save(update_fields=["state", "closed_by", "closed_at", "summary", "updated_at"])
    resolution = statements.filter(status=StatementStatus.APPROVED).order_by("-approved_at").first()
    if resolution is not None:
        deliver_statement(resolution, mention_ids=None, now=now)
    if incident.cluster_id is not None:
        bursts.end_cluster(incident.cluster_id, now=now)
    return incident


def own_open_questions(tickets: Sequence[Ticket], incident: Incident) -> dict[int, str]:
    """Ticket id → why it stays open after the incident (a key of OPEN_QUESTION_LABELS), for
    the open member tickets: an open department request, waiting for private data, a later
    post of the customer that is not a member, or a state `resolve` does not start from.
    Three queries, whatever the number of tickets."""
    open_tickets = {ticket.pk: ticket for ticket in tickets if ticket.state in OPEN_STATES}
    if not open_tickets:
        return {}
    ids = list(open_tickets)
    reasons: dict[int, str] = {}
    first_member_at = {}
    for ticket_id, created_at in (
        IncidentMember.objects.filter(incident=incident, ticket_id__in=ids)
        .order_by("ticket_id", "mention__created_at")
        .values_list("ticket_id", "mention__created_at")
    ):
        first_member_at.setdefault(ticket_id, created_at)
    later = Mention.objects.filter(
        ticket_id__in=ids, is_own_account=False, incident_membership__isnull=True
    ).values_list("ticket_id", "created_at")
    for ticket_id, created_at in later:
        if ticket_id in first_member_at and created_at > first_member_at[ticket_id]:
            reasons[ticket_id] = "own_message"
    for ticket_id in DepartmentRequest.objects.filter(
        ticket_id__in=ids, status=DepartmentRequestStatus.OPEN
    ).values_list("ticket_id", flat=True):
        reasons[ticket_id] = "department_request"
    for ticket in open_tickets.values():
        if ticket.state == TicketState.WAITING_CUSTOMER:
            reasons[ticket.pk] = "private_data"
        elif ticket.state not in RESOLVABLE_STATES:
            reasons.setdefault(ticket.pk, "state")
    return reasons


def resolve_after_resolution(reply: Reply, *, now: datetime) -> bool:
    """Called when a reply counts as sent (tickets.actions.replies.record_sent: the outbox
    sent it, or its author confirmed it as posted by hand): if it delivered a closed incident's
    resolution statement, resolve its ticket (as the system) unless the ticket has open
    questions of its own. True if it resolved the ticket."""
    delivery = (
        IncidentDelivery.objects.filter(
            reply_id=reply.pk,
            statement__kind=StatementKind.RESOLUTION,
            statement__incident__state=IncidentState.CLOSED,
        )
        .select_related("statement__incident")
        .first()
    )
    if delivery is None:
        return False
    ticket = Ticket.objects.get(pk=reply.ticket_id)
    if own_open_questions([ticket], delivery.statement.incident):
        return False
    ticket, _from = fire_transition(
        ticket,
        "resolve",
        actor=None,
        at=now,
        note=_("The incident is resolved."),
        update_fields=["resolved_at", "follow_up_due_at"],
        event_data={"incident": delivery.statement.incident_id},
    )
    cancel_running_clocks(ticket, at=now)
    return True


# --------------------------------------------------------------------------- alerts


def _alert_team_leads(incident: Incident, *, now: datetime) -> None:
    """In-app and e-mail notice to every team lead, once per incident (dedupe key)."""
    notify(
        users_in_group(roles.TEAM_LEAD),
        NotificationKind.INCIDENT_OPENED,
        text=lambda: _("Incident opened: %(title)s") % {"title": incident.title},
        at=now,
        dedupe_key=f"incident-opened:{incident.pk}",
        email=True,
        incident=incident.pk,
    )


def crisis_contacts() -> list[str]:
    """The desk's crisis contacts (`INCIDENT_CRISIS_CONTACTS`, comma-separated addresses)."""
    return [
        address.strip()
        for address in getattr(settings, "INCIDENT_CRISIS_CONTACTS", "").split(",")
        if address.strip()
    ]


def alert_crisis_contacts(incident_id: int, *, now: datetime) -> bool:
    """E-mail the crisis contacts about one incident, once: the incident is claimed by
    compare-and-set on `alerted_at` first; a failed mail releases the claim (the sweep tries
    again). True if the mail went out now."""
    claimed = Incident.objects.filter(pk=incident_id, alerted_at__isnull=True).update(
        alerted_at=now
    )
    if not claimed:
        return False
    incident = Incident.objects.get(pk=incident_id)
    contacts = crisis_contacts()
    if not contacts:
        return False
    subject = _("[Social Service Desk] Incident: %(title)s") % {"title": incident.title}
    body = _(
        "An incident was opened at %(opened)s: %(title)s\n%(members)s posts so far. %(reasons)s"
    ) % {
        "opened": formats.date_format(
            timezone.localtime(incident.opened_at), "SHORT_DATETIME_FORMAT"
        ),
        "title": incident.title,
        "members": incident.members.count(),
        "reasons": "; ".join(incident.reasons),
    }
    try:
        send_mail(subject, body, None, contacts)
    except Exception:
        logger.exception("crisis e-mail of incident %s failed", incident_id)
        Incident.objects.filter(pk=incident_id, alerted_at=now).update(alerted_at=None)
        return False
    return True


def send_pending_incident_alerts(*, now: datetime) -> int:
    """The sweep behind the crisis e-mail: every incident not alerted yet (a lost task)."""
    pending = Incident.objects.filter(alerted_at__isnull=True).values_list("pk", flat=True)
    return sum(alert_crisis_contacts(incident_id, now=now) for incident_id in list(pending[:50]))
