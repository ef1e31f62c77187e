"""The intake: mentions into tickets, in one transaction, for every source (the REST API,
`import_mentions`, the channel pollers, the demo channel).

For a batch of one channel, in one transaction and with a number of queries that does not
grow with the batch: lock the authors' identity keys, resolve identities and customers,
store the new mentions (a known (channel, external id) changes nothing and is reported as a
duplicate; a different text is kept as a revision), thread each mention by DESIGN §3.3, open
or join its ticket, fire `customer_replied` for the ticket's own customer, start the
first-response and next-response clocks of live tickets, and link replies that arrived
before their parent. Notifications are queued on commit.
"""

import enum
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q

from crm.models import Customer, SocialIdentity, normalise_handle
from monitoring.adapters.base import RawMention
from monitoring.models import Channel, Mention, MentionRevision
from servicedesk.queue import enqueue_on_commit
from tickets import actions, sla, tasks
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

logger = logging.getLogger(__name__)

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
        self._lock_identity_keys()
        identities = self._resolve_identities()
        inserted, existing = self._insert_mentions(identities)
        self._record_revisions(existing)
        results_by_id: dict[str, IntakeResult] = {
            external_id: IntakeResult(row["id"], row["ticket_id"], DUPLICATE)
            for external_id, row in existing.items()
        }
        if inserted:
            self._thread(inserted, identities)
            for mention in self.mentions:
                if mention.external_id in inserted:
                    row = inserted[mention.external_id]
                    results_by_id[mention.external_id] = IntakeResult(
                        row["id"], row["ticket_id"], CREATED
                    )
        return [results_by_id[mention.external_id] for mention in self.mentions]

    def _identity_key(self, mention: RawMention) -> tuple[str, str, str]:
        return (
            self.channel.identity_platform,
            mention.author.platform_user_id.strip(),
            normalise_handle(mention.author.handle),
        )

    def _lock_identity_keys(self) -> None:
        """Serialise concurrent intakes of the same authors (identity creation and the
        private-ticket rules), in a fixed order so two batches never deadlock."""
        keys = sorted(
            {
                _advisory_key(f"identity:{platform}:{handle}")
                for platform, _pid, handle in map(self._identity_key, self.mentions)
            }
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key ORDER BY key",
                [keys],
            )

    def _resolve_identities(self) -> dict[str, SocialIdentity]:
        """external_id → identity (own-account posts have none). A platform user id that
        arrives later attaches to the existing handle-only identity."""
        platform = self.channel.identity_platform
        wanted = [m for m in self.mentions if not self.channel.is_own_account(m.author.handle)]
        if not wanted:
            return {}
        pids = {self._identity_key(m)[1] for m in wanted} - {""}
        handles = {self._identity_key(m)[2] for m in wanted}
        rows = list(
            SocialIdentity.objects.filter(platform=platform).filter(
                Q(platform_user_id__in=pids) | Q(handle__in=handles)
            )
        )
        by_pid = {row.platform_user_id: row for row in rows if row.platform_user_id}
        handle_only = {row.handle: row for row in rows if not row.platform_user_id}
        by_handle: dict[str, SocialIdentity] = {}
        for row in sorted(rows, key=lambda row: row.pk):
            by_handle[row.handle] = row
        result: dict[str, SocialIdentity] = {}
        to_create: dict[tuple[str, str], SocialIdentity] = {}
        attach: dict[int, SocialIdentity] = {}
        for mention in wanted:
            _platform, pid, handle = self._identity_key(mention)
            identity = by_pid.get(pid) if pid else None
            if identity is None and pid and handle in handle_only:
                identity = handle_only.pop(handle)
                identity.platform_user_id = pid
                attach[identity.pk] = identity
                by_pid[pid] = identity
            if identity is None and not pid:
                identity = handle_only.get(handle) or by_handle.get(handle)
            if identity is None:
                key = (pid, handle if not pid else "")
                identity = to_create.get(key)
                if identity is None:
                    identity = SocialIdentity(
                        platform=platform,
                        platform_user_id=pid,
                        handle=handle,
                        display_name=mention.author.display_name[:255],
                        created_at=self.now,
                    )
                    to_create[key] = identity
                    if pid:
                        by_pid[pid] = identity
                    else:
                        handle_only[handle] = identity
            result[mention.external_id] = identity
        if attach:
            SocialIdentity.objects.bulk_update(list(attach.values()), ["platform_user_id"])
        if to_create:
            customers = [
                Customer(display_name=identity.display_name or identity.handle, created_at=self.now)
                for identity in to_create.values()
            ]
            _bulk_insert(customers)
            for identity, customer in zip(to_create.values(), customers, strict=True):
                identity.customer = customer
            _bulk_insert(list(to_create.values()))
        return result

    def _insert_mentions(
        self, identities: dict[str, SocialIdentity]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """INSERT … ON CONFLICT DO NOTHING: of two concurrent intakes of the same mention the
        second waits for the first to commit and then finds it (a duplicate)."""
        from psycopg2.extras import Json, execute_values

        rows = []
        for mention in self.mentions:
            identity = identities.get(mention.external_id)
            rows.append(
                (
                    self.channel.pk,
                    mention.external_id,
                    identity.pk if identity else None,
                    mention.author.handle[:255],
                    mention.author.display_name[:255],
                    mention.author.platform_user_id[:255],
                    mention.text,
                    mention.created_at,
                    self.now,
                    mention.url[:2048],
                    mention.in_reply_to[:255],
                    mention.is_private,
                    self.channel.is_own_account(mention.author.handle),
                    False,
                    mention.language[:16],
                    Json(mention.raw),
                )
            )
        table = Mention._meta.db_table
        with connection.cursor() as cursor:
            inserted_rows = execute_values(
                cursor,
                f"""INSERT INTO {table} (channel_id, external_id, identity_id, author_handle,
                    author_display_name, author_platform_user_id, text, created_at, received_at,
                    url, in_reply_to, is_private, is_own_account, is_hidden, language, raw)
                    VALUES %s ON CONFLICT (channel_id, external_id) DO NOTHING
                    RETURNING id, external_id""",
                rows,
                page_size=max(len(rows), 1),
                fetch=True,
            )
        inserted = {external_id: {"id": pk, "ticket_id": None} for pk, external_id in inserted_rows}
        missing = [m.external_id for m in self.mentions if m.external_id not in inserted]
        existing: dict[str, dict[str, Any]] = {}
        if missing:
            for row in Mention.objects.filter(channel=self.channel, external_id__in=missing).values(
                "id", "external_id", "ticket_id", "text"
            ):
                existing[row["external_id"]] = row
        return inserted, existing

    def _record_revisions(self, existing: dict[str, dict[str, Any]]) -> None:
        """A known id with another text keeps its stored text; the new text becomes a
        revision (once per distinct text)."""
        changed = {
            m.external_id: m.text
            for m in self.mentions
            if m.external_id in existing and existing[m.external_id]["text"] != m.text
        }
        if not changed:
            return
        ids = [existing[external_id]["id"] for external_id in changed]
        known = set(
            MentionRevision.objects.filter(mention_id__in=ids).values_list("mention_id", "text")
        )
        MentionRevision.objects.bulk_create(
            [
                MentionRevision(
                    mention_id=existing[external_id]["id"], text=text, received_at=self.now
                )
                for external_id, text in changed.items()
                if (existing[external_id]["id"], text) not in known
            ]
        )

    # ------------------------------------------------------------------ threading

    def _thread(
        self, inserted: dict[str, dict[str, Any]], identities: dict[str, SocialIdentity]
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
            inserted[external_id]["ticket_id"] = ticket.pk if ticket is not None else None
        self._update_mentions(inserted, new_mentions)
        self._update_joined_tickets(joined)
        for ticket_id, mention in replied.items():
            mention_row = Mention.objects.get(pk=inserted[mention.external_id]["id"])
            actions.customer_replied(tickets[ticket_id], mention=mention_row, now=self.now)
        if joined:
            enqueue_on_commit(tasks.mentions_joined_task, sorted(joined))

    def _is_live(self, mention: RawMention) -> bool:
        return self.live and self.now - mention.created_at <= self.reopen_window

    def _create_tickets(self, new_tickets: list[_NewTicket]) -> None:
        if not new_tickets:
            return
        policy = actions.current_policy(SlaKind.FIRST_RESPONSE)
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
        _bulk_insert(rows)
        for new, ticket in zip(new_tickets, rows, strict=True):
            new.ticket = ticket
        _bulk_insert(
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
        _bulk_insert(clocks)
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

    def _update_mentions(
        self, inserted: dict[str, dict[str, Any]], new_mentions: list[RawMention]
    ) -> None:
        """Set ticket and parent of the new mentions in one statement, and adopt stored
        replies whose parent arrives only now."""
        table = Mention._meta.db_table
        ids = [inserted[mention.external_id]["id"] for mention in new_mentions]
        ticket_ids = [inserted[mention.external_id]["ticket_id"] for mention in new_mentions]
        parents = [mention.in_reply_to or None for mention in new_mentions]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {table} AS m SET ticket_id = v.ticket_id,
                        parent_id = (SELECT p.id FROM {table} p
                                     WHERE p.channel_id = %s AND p.external_id = v.parent)
                    FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS v(id, ticket_id, parent)
                    WHERE m.id = v.id""",
                [self.channel.pk, ids, ticket_ids, parents],
            )
            cursor.execute(
                f"""UPDATE {table} AS child SET parent_id = parent.id
                    FROM {table} AS parent
                    WHERE child.channel_id = %s AND child.parent_id IS NULL
                      AND child.in_reply_to <> '' AND parent.channel_id = %s
                      AND parent.external_id = child.in_reply_to
                      AND parent.id = ANY(%s)""",
                [self.channel.pk, self.channel.pk, ids],
            )

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


def _bulk_insert(objects: Sequence[models.Model]) -> None:
    """INSERT new objects of one model in one statement and set their primary keys, like
    `bulk_create` but without its per-value preparation: on the intake's hot path the ORM
    cost more than the database (measured with bench/ingest.py). Values are read by
    attname as the model's __init__ left them (defaults applied); JSON fields are wrapped,
    enum members stored by value. Not for fields that encrypt or transform their value."""
    if not objects:
        return
    from psycopg2.extras import Json, execute_values

    meta = type(objects[0])._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    stamped = {
        field.attname
        for field in fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    }
    rows = []
    for obj in objects:
        row = []
        for field in fields:
            if field.attname in stamped:
                value = field.pre_save(obj, True)
            else:
                value = getattr(obj, field.attname)
            if isinstance(field, models.JSONField):
                value = Json(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            row.append(value)
        rows.append(tuple(row))
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        ids = execute_values(
            cursor,
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES %s "
            f"RETURNING {connection.ops.quote_name(meta.pk.column)}",
            rows,
            page_size=len(rows),
            fetch=True,
        )
    for obj, (pk,) in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 280 else text[:279] + "…"


def _advisory_key(value: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock."""
    return int.from_bytes(
        hashlib.blake2b(value.encode(), digest_size=8).digest(), "big", signed=True
    )
