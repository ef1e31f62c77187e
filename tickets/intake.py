"""The intake: mentions into tickets, in one transaction, for every source (the REST API,
`import_mentions`, the channel pollers, the demo channel).

For a batch of one channel, in one transaction and with a number of queries that does not
grow with the batch: lock the authors' identity keys, resolve identities and customers,
store the new mentions through monitoring's own functions (a known (channel, external id)
changes nothing and is reported as a duplicate; a different text is kept as a revision),
resolve identities through crm's, thread each mention by DESIGN §3.3, open
or join its ticket, fire `customer_replied` for the ticket's own customer, start the
first-response and next-response clocks of live tickets, and link replies that arrived
before their parent. Notifications are queued on commit.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from crm import actions as crm_actions
from crm.actions import AuthorKey
from crm.choices import ConsentPurpose
from crm.models import Consent, SocialIdentity
from monitoring import actions as monitoring_actions
from monitoring import suppression
from monitoring.actions import StoredMention
from monitoring.adapters.base import RawMention
from monitoring.minimise import minimise
from monitoring.models import Channel, Mention
from servicedesk.queue import enqueue_on_commit
from servicedesk.sql import bulk_insert
from tickets import sla
from tickets.actions.clocks import current_policy
from tickets.actions.events import write_events
from tickets.actions.lifecycle import customer_replied
from tickets.choices import (
    CUSTOMER_REPLY_STATES,
    OPEN_STATES,
    REOPEN_WINDOW_STATES,
    LinkKind,
    ReplyStatus,
    SlaKind,
    TicketEventKind,
    TicketState,
)
from tickets.models import Reply, SlaClock, Ticket, TicketEvent, TicketLink
from triage import actions as triage_actions

logger = logging.getLogger(__name__)

MENTIONS_JOINED_TASK = "tickets.tasks.mentions_joined_task"
DETECT_INCIDENTS_TASK = "tickets.tasks.detect_incidents_task"

CREATED = "created"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class IntakeResult:
    mention_id: int
    ticket_id: int | None
    status: str  # "created" | "duplicate"


@dataclass
class _NewTicket:
    """A ticket opened by this batch, created in bulk once all mentions are threaded."""

    customer_id: int
    is_private: bool
    first: RawMention
    received_at: datetime
    starts_clocks: bool
    mention_count: int = 0
    last_mention_at: datetime | None = None
    link_to: tuple[int, str] | None = None  # (old ticket id, link kind)
    ticket: Ticket | None = None


def receive_mentions(
    channel: Channel, mentions: Sequence[RawMention], *, now: datetime, live: bool = True
) -> list[IntakeResult]:
    """Store `mentions` of `channel` and thread them into tickets, in array order.

    `live=False` (imports, demo history) starts no clock; so does a mention older than the
    reopen window. Idempotent: the same mentions again answer `duplicate` and change nothing.
    """
    if not mentions:
        return []
    with transaction.atomic():
        return _Batch(channel, mentions, now=now, live=live).run()


def receive_mention(
    channel: Channel, mention: RawMention, *, now: datetime, live: bool = True
) -> IntakeResult:
    return receive_mentions(channel, [mention], now=now, live=live)[0]


def receive_mention_batch(
    items: Sequence[tuple[Channel, RawMention]], *, now: datetime, live: bool = True
) -> list[IntakeResult]:
    """Receive a batch that may mix channels, all or nothing: one transaction around the
    intake of every channel's group (in array order within each group); the results come
    back in the order of `items`."""
    groups: dict[int, list[int]] = {}
    channels: dict[int, Channel] = {}
    for position, (channel, _mention) in enumerate(items):
        groups.setdefault(channel.pk, []).append(position)
        channels[channel.pk] = channel
    results: list[Any] = [None] * len(items)
    with transaction.atomic():  # one transaction for every group: no savepoint per group
        for channel_id, positions in groups.items():
            received = _Batch(
                channels[channel_id], [items[p][1] for p in positions], now=now, live=live
            ).run()
            for position, result in zip(positions, received, strict=True):
                results[position] = result
    return results


class _Batch:
    def __init__(
        self, channel: Channel, mentions: Sequence[RawMention], *, now: datetime, live: bool
    ) -> None:
        self.channel = channel
        self.now = now
        self.live = live
        # A poller may see the same post twice in one page: the first one counts.
        seen: set[str] = set()
        self.mentions: list[RawMention] = []
        for mention in mentions:
            if mention.external_id not in seen:
                seen.add(mention.external_id)
                self.mentions.append(mention)
        self.reopen_window = timedelta(days=settings.REOPEN_WINDOW_DAYS)

    # ------------------------------------------------------------------ steps

    def run(self) -> list[IntakeResult]:
        # An erased person's post delivered again is answered as the duplicate of its
        # tombstone and stored nowhere (issue 15; privacy registers the check).
        erased = suppression.suppressed(self.channel, [m.external_id for m in self.mentions])
        if erased:
            wanted = [m for m in self.mentions if m.external_id not in erased]
            results = {
                external_id: IntakeResult(mention_id, ticket_id, DUPLICATE)
                for external_id, (mention_id, ticket_id) in erased.items()
            }
            everything, self.mentions = self.mentions, wanted
            stored = {id(m): r for m, r in zip(wanted, self._store(), strict=True)}
            return [stored.get(id(m)) or results[m.external_id] for m in everything]
        return self._store()

    def _store(self) -> list[IntakeResult]:
        if not self.mentions:
            return []
        platform = self.channel.identity_platform
        full = self.mentions
        if self.channel.link_only:  # issue 15, point 5: nothing beyond handle and link
            self.mentions = [minimise(m, self.channel.platform) for m in full]
        crm_actions.lock_identity_keys(platform, [_author_key(m) for m in self.mentions])
        identities = self._resolve_identities()
        if self.channel.link_only:
            self.mentions = self._with_consented_details(full, identities)
        inserted, known = monitoring_actions.store_mentions(
            self.channel,
            self.mentions,
            {external_id: identity.pk for external_id, identity in identities.items()},
            now=self.now,
        )
        monitoring_actions.record_revisions(known, self.mentions, now=self.now)
        results_by_id: dict[str, IntakeResult] = {
            external_id: IntakeResult(row.id, row.ticket_id, DUPLICATE)
            for external_id, row in known.items()
        }
        if inserted:
            self._thread(inserted, identities)
            for mention in self.mentions:
                if mention.external_id in inserted:
                    row = inserted[mention.external_id]
                    results_by_id[mention.external_id] = IntakeResult(
                        row.id, row.ticket_id, CREATED
                    )
        return [results_by_id[mention.external_id] for mention in self.mentions]

    def _with_consented_details(
        self, full: list[RawMention], identities: dict[str, SocialIdentity]
    ) -> list[RawMention]:
        """Consent gates enrichment: on a link-only channel, the post of a customer whose
        consent to data processing is in force keeps its author details and payload; every
        other post stays minimised (one query)."""
        consented = Consent.objects.granted_to(
            {identity.customer_id for identity in identities.values()},
            ConsentPurpose.DATA_PROCESSING,
        )
        return [
            original
            if (identity := identities.get(original.external_id)) is not None
            and identity.customer_id in consented
            else minimised
            for original, minimised in zip(full, self.mentions, strict=True)
        ]

    def _resolve_identities(self) -> dict[str, SocialIdentity]:
        """external_id → identity of its author (own-account posts have none)."""
        wanted = [m for m in self.mentions if not self.channel.is_own_account(m.author.handle)]
        identities = crm_actions.resolve_identities(
            self.channel.identity_platform, [_author_key(m) for m in wanted], now=self.now
        )
        return {
            mention.external_id: identity
            for mention, identity in zip(wanted, identities, strict=True)
        }

    # ------------------------------------------------------------------ threading

    def _thread(
        self, inserted: dict[str, StoredMention], identities: dict[str, SocialIdentity]
    ) -> None:
        new_mentions = [m for m in self.mentions if m.external_id in inserted]
        parent_ids = {m.in_reply_to for m in new_mentions if m.in_reply_to}
        # Parents stored before this batch: mentions of the channel, and sent replies.
        stored_parents = {
            row["external_id"]: row
            for row in Mention.objects.filter(
                channel=self.channel, external_id__in=parent_ids - set(inserted)
            ).values("id", "external_id", "ticket_id")
        }
        reply_parents = {
            row["platform_id"]: row["ticket_id"]
            for row in Reply.objects.filter(
                ticket__channel=self.channel,
                platform_id__in=parent_ids - set(inserted) - set(stored_parents),
                status=ReplyStatus.SENT,
            ).values("platform_id", "ticket_id")
        }
        private_customers = {
            identities[m.external_id].customer_id
            for m in new_mentions
            if m.is_private and m.external_id in identities
        }
        # Rule 2: a waiting_customer ticket of the customer on the same platform.
        waiting = {}
        open_private = {}
        if private_customers:
            for ticket_id, customer_id in (
                Ticket.objects.filter(
                    customer_id__in=private_customers,
                    state=TicketState.WAITING_CUSTOMER,
                    channel__platform=self.channel.platform,
                )
                .order_by("opened_at")
                .values_list("pk", "customer_id")
            ):
                waiting.setdefault(customer_id, ticket_id)
            # Rule 3: an open private ticket of the author on this channel.
            for ticket_id, customer_id in (
                Ticket.objects.filter(
                    customer_id__in=private_customers,
                    channel=self.channel,
                    is_private=True,
                    state__in=OPEN_STATES,
                )
                .order_by("opened_at")
                .values_list("pk", "customer_id")
            ):
                open_private.setdefault(customer_id, ticket_id)
        candidate_ids = (
            {row["ticket_id"] for row in stored_parents.values() if row["ticket_id"]}
            | set(reply_parents.values())
            | set(waiting.values())
            | set(open_private.values())
        )
        # Lock the tickets this batch may join or move, by primary key (a fixed order).
        tickets = {
            ticket.pk: ticket
            for ticket in Ticket.objects.select_for_update()
            .filter(pk__in=candidate_ids)
            .order_by("pk")
        }

        placed: dict[str, Any] = {}  # external_id → Ticket | _NewTicket | None
        joined: dict[int, list[RawMention]] = {}
        replied: dict[int, RawMention] = {}  # ticket id → the mention that fired
        new_tickets: list[_NewTicket] = []

        for mention in new_mentions:
            identity = identities.get(mention.external_id)
            is_own = identity is None
            target: Any = None
            if mention.in_reply_to:
                if mention.in_reply_to in placed:
                    target = placed[mention.in_reply_to]
                elif mention.in_reply_to in stored_parents:
                    target = tickets.get(stored_parents[mention.in_reply_to]["ticket_id"])
                elif mention.in_reply_to in reply_parents:
                    target = tickets.get(reply_parents[mention.in_reply_to])
            if target is None and mention.is_private and identity is not None:
                ticket_id = waiting.get(identity.customer_id) or open_private.get(
                    identity.customer_id
                )
                target = tickets.get(ticket_id) if ticket_id else None
            if is_own:
                # Own-account posts join the thread they answer, open nothing, fire nothing.
                placed[mention.external_id] = target
                if isinstance(target, Ticket):
                    joined.setdefault(target.pk, []).append(mention)
                elif isinstance(target, _NewTicket):
                    target.mention_count += 1
                continue
            link_to = None
            if isinstance(target, Ticket):
                is_customer = identity.customer_id == target.customer_id
                if target.state == TicketState.DISMISSED:
                    link_to, target = (target.pk, LinkKind.RELATED), None
                elif (
                    is_customer
                    and target.state in REOPEN_WINDOW_STATES
                    and target.resolved_at is not None
                    and self.now - target.resolved_at > self.reopen_window
                ):
                    link_to, target = (target.pk, LinkKind.FOLLOW_UP_OF), None
            if target is None:
                target = _NewTicket(
                    customer_id=identity.customer_id,
                    is_private=mention.is_private,
                    first=mention,
                    received_at=self.now,
                    starts_clocks=self._is_live(mention),
                    link_to=link_to,
                )
                new_tickets.append(target)
            if isinstance(target, _NewTicket):
                target.mention_count += 1
                target.last_mention_at = mention.created_at
            else:
                joined.setdefault(target.pk, []).append(mention)
                if (
                    identity.customer_id == target.customer_id
                    and target.state in CUSTOMER_REPLY_STATES
                    and target.pk not in replied
                ):
                    replied[target.pk] = mention
            placed[mention.external_id] = target

        self._create_tickets(new_tickets)
        for external_id, target in placed.items():
            ticket = target.ticket if isinstance(target, _NewTicket) else target
            inserted[external_id].ticket_id = ticket.pk if ticket is not None else None
        monitoring_actions.attach_to_tickets(
            self.channel,
            [inserted[mention.external_id].id for mention in new_mentions],
            [inserted[mention.external_id].ticket_id for mention in new_mentions],
            [mention.in_reply_to for mention in new_mentions],
        )
        self._update_joined_tickets(joined)
        for ticket_id, mention in replied.items():
            mention_row = Mention.objects.get(pk=inserted[mention.external_id].id)
            customer_replied(tickets[ticket_id], mention=mention_row, now=self.now)
        if joined:
            enqueue_on_commit(MENTIONS_JOINED_TASK, sorted(joined))
        # Issue 13: one suggestion per stored mention, in this transaction (rules only, a few
        # ms per batch); a failure is swallowed in a savepoint and retried by the triage sweep.
        triage_actions.suggest_in_intake(
            [inserted[mention.external_id].id for mention in new_mentions],
            now=self.now,
            mentions=[
                self._as_stored(mention, inserted[mention.external_id]) for mention in new_mentions
            ],
        )
        # Issue 14: the customers' new posts go to the burst detector, in arrival order.
        customer_posts = [
            inserted[mention.external_id].id
            for mention in new_mentions
            if inserted[mention.external_id].ticket_id is not None
            and not self.channel.is_own_account(mention.author.handle)
        ]
        if customer_posts:
            enqueue_on_commit(DETECT_INCIDENTS_TASK, customer_posts)

    def _as_stored(self, mention: RawMention, row: StoredMention) -> Mention:
        """The new mention as triage reads it, without reading it back (what
        store_mentions wrote)."""
        return Mention(
            pk=row.id,
            channel=self.channel,
            external_id=mention.external_id,
            author_handle=mention.author.handle[:255],
            text=mention.text,
            created_at=mention.created_at,
            url=row.url,
            ticket_id=row.ticket_id,
            is_private=mention.is_private,
            is_own_account=self.channel.is_own_account(mention.author.handle),
        )

    def _is_live(self, mention: RawMention) -> bool:
        return self.live and self.now - mention.created_at <= self.reopen_window

    def _create_tickets(self, new_tickets: list[_NewTicket]) -> None:
        if not new_tickets:
            return
        policy = current_policy(SlaKind.FIRST_RESPONSE)
        rows = []
        for new in new_tickets:
            due = None
            if new.starts_clocks:
                due = sla.deadlines(
                    new.received_at, target_seconds=policy[0], warn_percent=policy[1]
                ).due_at
            rows.append(
                Ticket(
                    channel=self.channel,
                    customer_id=new.customer_id,
                    is_private=new.is_private,
                    preview=_preview(new.first.text),
                    mention_count=new.mention_count,
                    opened_at=new.received_at,
                    posted_at=new.first.created_at,
                    last_mention_at=new.last_mention_at or new.first.created_at,
                    state_changed_at=self.now,
                    updated_at=self.now,
                    starts_clocks=new.starts_clocks,
                    sla_due_at=due,
                )
            )
        bulk_insert(rows)
        for new, ticket in zip(new_tickets, rows, strict=True):
            new.ticket = ticket
        write_events(
            [
                TicketEvent(
                    ticket=new.ticket,
                    kind=TicketEventKind.OPENED,
                    to_state=TicketState.NEW,
                    created_at=self.now,
                    data={"external_id": new.first.external_id, "channel": self.channel.slug},
                )
                for new in new_tickets
            ]
        )
        clocks = []
        for new in new_tickets:
            if not new.starts_clocks:
                continue
            deadlines = sla.deadlines(
                new.received_at, target_seconds=policy[0], warn_percent=policy[1]
            )
            clocks.append(
                SlaClock(
                    ticket=new.ticket,
                    kind=SlaKind.FIRST_RESPONSE,
                    started_at=new.received_at,
                    posted_at=new.first.created_at,
                    warn_at=deadlines.warn_at,
                    due_at=deadlines.due_at,
                )
            )
        bulk_insert(clocks)
        links = [
            TicketLink(
                from_ticket=new.ticket,
                to_ticket_id=new.link_to[0],
                kind=new.link_to[1],
                created_at=self.now,
            )
            for new in new_tickets
            if new.link_to
        ]
        TicketLink.objects.bulk_create(links, ignore_conflicts=True)

    def _update_joined_tickets(self, joined: dict[int, list[RawMention]]) -> None:
        if not joined:
            return
        ticket_ids = list(joined)
        added = [len(joined[ticket_id]) for ticket_id in ticket_ids]
        last_at = [max(m.created_at for m in joined[ticket_id]) for ticket_id in ticket_ids]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {Ticket._meta.db_table} AS t
                    SET mention_count = t.mention_count + v.added,
                        last_mention_at = GREATEST(t.last_mention_at, v.last_at),
                        updated_at = %s
                    FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[]) AS v(id, added, last_at)
                    WHERE t.id = v.id""",
                [self.now, ticket_ids, added, last_at],
            )


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 280 else text[:279] + "…"


def _author_key(mention: RawMention) -> AuthorKey:
    author = mention.author
    return AuthorKey(author.platform_user_id, author.handle, author.display_name)
