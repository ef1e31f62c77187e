"""Erasure (Art. 17): one person's personal data out of every table, a tombstone in its place.

Four eyes: a team lead or privacy officer requests, another one confirms (never the
requester). The run keeps what the workflow needs — tickets, clocks, breaches, report facts,
every timestamp — and replaces what names or quotes the person (DESIGN §8): mention texts,
handles, display names, raw payloads and links; revisions are deleted; the texts of their
tickets (preview, replies, internal notes, event notes, department requests, notifications);
customer notes and consent sources; their identities; the triage labels of their posts and
the reasons of the triage suggestions; and, across the whole desk, every other
free text that quotes their handle or name (replies, notes, notifications, department
requests, knowledge articles and their versions, proposals, the search log and word list).

Every step is idempotent and commits on its own (mentions in batches), so an interrupted
run is resumed by running it again (`resume_erasures`, on beat); the erasure stays `running`
until the last step, which tombstones the identities and the customer, is done. Each post is
remembered by a keyed hash of channel and external id (privacy.keys), so the intake does not
store it again when a poller or bridge delivers it once more.
"""

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _
from psycopg2.extras import Json, execute_values

from crm.models import Customer
from knowledge.actions.articles import index_article
from knowledge.models import Article
from monitoring.models import Channel
from privacy import access
from privacy.choices import OPEN_ERASURE_STATUSES, ErasureStatus
from privacy.keys import post_key
from privacy.models import ErasureRequest
from servicedesk.errors import DomainError, InvalidArgument, NotAllowedForRole
from tickets.models import Ticket

TOMBSTONE = "[gelöscht / erased]"
MENTION_BATCH = 1000
MIN_MARKER_LENGTH = 3


class SelfConfirmationNotAllowed(DomainError):
    code = "self_confirmation"
    status = 403
    default_detail = _("An erasure must be confirmed by a second person, not its requester.")


class ErasureNotOpen(DomainError):
    code = "conflict"
    status = 409


# --------------------------------------------------------------------------- the four eyes


def request_erasure(
    customer: Customer, actor: Any, *, reason: str, now: datetime
) -> ErasureRequest:
    if not access.may_handle_requests(actor):
        raise NotAllowedForRole(_("Only team leads and privacy officers request erasures."))
    if customer.merged_into_id is not None:
        raise InvalidArgument(
            _("This customer was merged into #%(target)s; erase that customer.")
            % {"target": customer.merged_into_id},
            field="customer",
        )
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        if ErasureRequest.objects.filter(
            customer=customer, status__in=OPEN_ERASURE_STATUSES
        ).exists():
            raise ErasureNotOpen(_("An erasure of this customer is already open."))
        return ErasureRequest.objects.create(
            customer=customer, requested_by=actor, requested_at=now, reason=reason[:2000]
        )


def confirm_erasure(erasure_id: int, actor: Any, *, now: datetime) -> ErasureRequest:
    """The second person confirms; the erasure runs at once (in batches) and is returned done.
    Refused for the requester (403) and for an erasure that is not waiting (409)."""
    if not access.may_handle_requests(actor):
        raise NotAllowedForRole(_("Only team leads and privacy officers confirm erasures."))
    with transaction.atomic():
        erasure = ErasureRequest.objects.select_for_update().get(pk=erasure_id)
        if erasure.requested_by_id == actor.pk:
            raise SelfConfirmationNotAllowed()
        if erasure.status != ErasureStatus.REQUESTED:
            raise ErasureNotOpen(
                _("This erasure is %(status)s.") % {"status": erasure.get_status_display()}
            )
        erasure.confirmed_by = actor
        erasure.confirmed_at = now
        erasure.status = ErasureStatus.RUNNING
        erasure.save(update_fields=["confirmed_by", "confirmed_at", "status"])
    return run_erasure(erasure.pk, now=now)


def cancel_erasure(erasure_id: int, actor: Any) -> ErasureRequest:
    if not access.may_handle_requests(actor):
        raise NotAllowedForRole(_("Only team leads and privacy officers cancel erasures."))
    with transaction.atomic():
        erasure = ErasureRequest.objects.select_for_update().get(pk=erasure_id)
        if erasure.status != ErasureStatus.REQUESTED:
            raise ErasureNotOpen(_("Only an erasure waiting for confirmation can be cancelled."))
        erasure.status = ErasureStatus.CANCELLED
        erasure.save(update_fields=["status"])
    return erasure


def resume_erasures(*, now: datetime) -> int:
    """Run every confirmed erasure that did not finish (a worker or web process died)."""
    ids = list(
        ErasureRequest.objects.filter(status=ErasureStatus.RUNNING).values_list("pk", flat=True)
    )
    for erasure_id in ids:
        run_erasure(erasure_id, now=now)
    return len(ids)


# --------------------------------------------------------------------------- the run


def run_erasure(erasure_id: int, *, now: datetime) -> ErasureRequest:
    """Run (or resume) a confirmed erasure. Holds a session-level advisory lock on the
    erasure so two runners never interleave; the second returns at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [15, erasure_id])
        (locked,) = cursor.fetchone()
    if not locked:
        return ErasureRequest.objects.get(pk=erasure_id)
    try:
        erasure = ErasureRequest.objects.get(pk=erasure_id)
        if erasure.status != ErasureStatus.RUNNING:
            return erasure
        run = _Run(erasure)
        run.mentions()
        run.tickets()
        run.quotes_elsewhere()
        run.customer_records()
        run.identities_and_customer(now=now)
        erasure.refresh_from_db()
        return erasure
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [15, erasure_id])


class _Run:
    def __init__(self, erasure: ErasureRequest) -> None:
        self.erasure = erasure
        self.customer_id = erasure.customer_id
        self.identity_ids = list(
            Customer.objects.get(pk=self.customer_id).identities.values_list("pk", flat=True)
        )
        self.markers = self._markers()
        self.ticket_ids = list(
            Ticket.objects.filter(customer_id=self.customer_id).values_list("pk", flat=True)
        )

    # ---------------------------------------------------------------- helpers

    def _markers(self) -> list[str]:
        """The handles and names that identify the person in free texts of other rows.
        Read before anything is tombstoned; the identities are tombstoned last, so a resumed
        run still finds them."""
        words: set[str] = set()
        customer = Customer.objects.get(pk=self.customer_id)
        words.add(customer.display_name)
        for handle, name in customer.identities.values_list("handle", "display_name"):
            words.update((handle, name))
        rows = _sql(
            """SELECT DISTINCT author_handle, author_display_name FROM monitoring_mention
                WHERE identity_id = ANY(%s) AND NOT raw ? 'erased'""",
            [self.identity_ids],
        )
        for handle, name in rows:
            words.update((handle.lstrip("@"), name))
        return sorted(
            {w.strip() for w in words if len(w.strip()) >= MIN_MARKER_LENGTH},
            key=lambda w: (-len(w), w),
        )

    def pattern(self) -> str | None:
        """A PostgreSQL regular expression matching any marker as a whole word (with an
        optional leading @), or None when there is none."""
        if not self.markers:
            return None
        escaped = [re.sub(r"([^\w\s])", r"\\\1", marker) for marker in self.markers]
        return r"@?\m(" + "|".join(escaped) + r")\M"

    def count(self, table: str, rows: int) -> None:
        """counts[table] += rows, in the step's own transaction."""
        if rows > 0:
            _sql(
                """UPDATE privacy_erasurerequest
                      SET counts = jsonb_set(counts, ARRAY[%(k)s],
                                             to_jsonb(COALESCE((counts->>%(k)s)::int, 0) + %(n)s))
                    WHERE id = %(id)s RETURNING id""",
                {"k": table, "n": rows, "id": self.erasure.pk},
            )

    # ---------------------------------------------------------------- steps

    def mentions(self) -> None:
        """The person's posts in batches of MENTION_BATCH, one transaction each."""
        while True:
            with transaction.atomic():
                rows = _sql(
                    """SELECT id, channel_id, external_id FROM monitoring_mention
                        WHERE identity_id = ANY(%s) AND NOT raw ? 'erased'
                        ORDER BY id LIMIT %s FOR UPDATE""",
                    [self.identity_ids, MENTION_BATCH],
                )
                if not rows:
                    return
                self._erase_mentions(rows)

    def _erase_mentions(self, rows: Sequence[tuple[int, int, str]]) -> None:
        tombstone_mentions(rows, erasure_id=self.erasure.pk, count=self.count)

    def tickets(self) -> None:
        """The texts of the person's tickets: everything written there is about them."""
        tombstone_ticket_texts(self.ticket_ids, count=self.count)

    def quotes_elsewhere(self) -> None:
        """Other rows' free texts that quote the person: the marker replaced in place."""
        pattern = self.pattern()
        if pattern is None:
            return
        columns = [
            ("tickets_reply", "text"),
            ("tickets_reply", "review_comment"),
            ("tickets_ticketnote", "text"),
            ("tickets_ticketevent", "note"),
            ("tickets_notification", "text"),
            ("tickets_departmentrequest", "question"),
            ("tickets_departmentrequest", "answer"),
            ("tickets_ticket", "preview"),
            # Other people's posts that name them (a bystander's "@handle, same here").
            ("monitoring_mention", "text"),
            ("monitoring_mentionrevision", "text"),
            ("crm_customernote", "text"),
            ("knowledge_article", "title"),
            ("knowledge_article", "body"),
            ("knowledge_article", "plain_body"),
            ("knowledge_articleversion", "title"),
            ("knowledge_articleversion", "body"),
            ("knowledge_articleproposal", "title"),
            ("knowledge_articleproposal", "body"),
            ("knowledge_articleproposal", "comment"),
            ("knowledge_searchlog", "query"),
            ("knowledge_searchlog", "normalised_query"),
        ]
        for table, column in columns:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"""UPDATE {table} SET {column} = regexp_replace({column}, %(p)s, %(t)s, 'gi')
                         WHERE {column} ~* %(p)s""",
                    {"p": pattern, "t": TOMBSTONE},
                )
                self.count(f"{table}.{column}", cursor.rowcount)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM knowledge_searchword WHERE word ~* %s", [pattern])
            self.count("knowledge_searchword", cursor.rowcount)
            # Articles whose text changed get their search vectors computed again.
            cursor.execute(
                """UPDATE knowledge_article SET search_vector = NULL, title_vector = NULL
                    WHERE search_vector IS NOT NULL AND (title || ' ' || plain_body) LIKE %s""",
                [f"%{TOMBSTONE}%"],
            )
            changed = cursor.rowcount
        if changed:
            _reindex_articles()

    def customer_records(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_customernote SET text = %s WHERE customer_id = %s AND text <> %s",
                [TOMBSTONE, self.customer_id, TOMBSTONE],
            )
            self.count("crm_customernote", cursor.rowcount)
            cursor.execute(
                "UPDATE crm_consent SET source = '' WHERE customer_id = %s AND source <> ''",
                [self.customer_id],
            )
            self.count("crm_consent", cursor.rowcount)

    def identities_and_customer(self, *, now: datetime) -> None:
        """Last: the identities and the customer become tombstones; the erasure is done."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """UPDATE crm_socialidentity SET handle = 'erased-' || id, display_name = '',
                          platform_user_id = ''
                    WHERE customer_id = %s AND handle <> 'erased-' || id""",
                [self.customer_id],
            )
            self.count("crm_socialidentity", cursor.rowcount)
            cursor.execute(
                "UPDATE crm_customer SET display_name = '' WHERE id = %s AND display_name <> ''",
                [self.customer_id],
            )
            self.count("crm_customer", cursor.rowcount)
            ErasureRequest.objects.filter(pk=self.erasure.pk).update(
                status=ErasureStatus.DONE, finished_at=now
            )


# --------------------------------------------------------------------------- shared steps
# (the erasure of a person and the retention sweep, which erases old tickets' personal data)

Counter = Callable[[str, int], None]


def tombstone_mentions(
    rows: Sequence[tuple[int, int, str]], *, erasure_id: int | None, count: Counter
) -> None:
    """(id, channel id, external id) rows: remembered by keyed hash, revisions deleted,
    replies to them re-pointed, and their personal fields replaced. Call in a transaction."""
    ids = [row[0] for row in rows]
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            """INSERT INTO privacy_erasedpost (key, mention_id, erasure_id) VALUES %s
               ON CONFLICT (key) DO NOTHING""",
            [(post_key(channel_id, ext), pk, erasure_id) for pk, channel_id, ext in rows],
            page_size=len(rows),
        )
        count("privacy_erasedpost", cursor.rowcount)
        cursor.execute("DELETE FROM monitoring_mentionrevision WHERE mention_id = ANY(%s)", [ids])
        count("monitoring_mentionrevision", cursor.rowcount)
        # Triage (issue 13): the labels are training data drawn from the post, so they go;
        # the suggestion keeps its heads (what the desk decided stays countable) but loses
        # its reasons, which quote what matched in the text.
        cursor.execute("DELETE FROM triage_label WHERE mention_id = ANY(%s)", [ids])
        count("triage_label", cursor.rowcount)
        cursor.execute(
            """UPDATE triage_suggestion
                  SET reasons = '[]'::jsonb,
                      fake_review = CASE WHEN fake_review ? 'reasons'
                                         THEN jsonb_set(fake_review, '{reasons}', '[]'::jsonb)
                                         ELSE fake_review END
                WHERE mention_id = ANY(%s)
                  AND (reasons <> '[]'::jsonb OR fake_review->'reasons' <> '[]'::jsonb)""",
            [ids],
        )
        count("triage_suggestion", cursor.rowcount)
        # Replies to these posts point at them by external id: point at the tombstone.
        cursor.execute(
            """UPDATE monitoring_mention c SET in_reply_to = 'erased-' || p.id
                 FROM monitoring_mention p
                WHERE p.id = ANY(%s) AND c.channel_id = p.channel_id
                  AND c.in_reply_to = p.external_id
                  AND (c.parent_id = p.id OR (c.parent_id IS NULL AND c.in_reply_to <> ''))""",
            [ids],
        )
        cursor.execute(
            """UPDATE monitoring_mention SET text = %s, author_handle = '',
                      author_display_name = '', author_platform_user_id = '', url = '',
                      in_reply_to = '', language = '', external_id = 'erased-' || id,
                      raw = %s
                WHERE id = ANY(%s)""",
            [TOMBSTONE, Json({"erased": erasure_id or "retention"}), ids],
        )
        count("monitoring_mention", cursor.rowcount)


def tombstone_ticket_texts(ids: Sequence[int], *, count: Counter) -> None:
    """Every free text of these tickets, one statement (and transaction) per table."""
    if not ids:
        return
    statements = [
        (
            "tickets_ticket",
            """UPDATE tickets_ticket SET preview = %(t)s, handover_reference = ''
                WHERE id = ANY(%(ids)s) AND (preview <> %(t)s OR handover_reference <> '')""",
        ),
        (
            # The brand's own posts in their threads answer them by name.
            "monitoring_mention.own_posts",
            """UPDATE monitoring_mention SET text = %(t)s, url = '', raw = '{}'::jsonb
                WHERE ticket_id = ANY(%(ids)s) AND is_own_account AND text <> %(t)s""",
        ),
        (
            "monitoring_mentionrevision.own_posts",
            """DELETE FROM monitoring_mentionrevision r USING monitoring_mention m
                WHERE r.mention_id = m.id AND m.ticket_id = ANY(%(ids)s) AND m.is_own_account""",
        ),
        (
            "tickets_ticketnote",
            """UPDATE tickets_ticketnote SET text = %(t)s
                WHERE ticket_id = ANY(%(ids)s) AND text <> %(t)s""",
        ),
        (
            "tickets_ticketevent",
            """UPDATE tickets_ticketevent
                  SET note = CASE WHEN note = '' THEN '' ELSE %(t)s END,
                      data = data - 'external_id' - 'reason_text' - 'text'
                WHERE ticket_id = ANY(%(ids)s)
                  AND ((note <> '' AND note <> %(t)s) OR data ?| ARRAY['external_id',
                       'reason_text', 'text'])""",
        ),
        (
            "tickets_reply",
            """UPDATE tickets_reply SET text = %(t)s, review_comment = '', last_error = ''
                WHERE ticket_id = ANY(%(ids)s)
                  AND (text <> %(t)s OR review_comment <> '' OR last_error <> '')""",
        ),
        (
            "tickets_departmentrequest",
            """UPDATE tickets_departmentrequest
                  SET question = %(t)s,
                      answer = CASE WHEN answer = '' THEN '' ELSE %(t)s END,
                      withdraw_reason = CASE WHEN withdraw_reason = '' THEN ''
                                             ELSE %(t)s END
                WHERE ticket_id = ANY(%(ids)s)
                  AND (question <> %(t)s OR answer NOT IN ('', %(t)s)
                       OR withdraw_reason NOT IN ('', %(t)s))""",
        ),
        (
            "tickets_notification",
            """UPDATE tickets_notification SET text = %(t)s
                WHERE ticket_id = ANY(%(ids)s) AND text <> %(t)s""",
        ),
    ]
    for table, sql in statements:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, {"t": TOMBSTONE, "ids": list(ids)})
            count(table, cursor.rowcount)


# --------------------------------------------------------------------------- the intake's check


def erased_posts(
    channel: Channel, external_ids: Sequence[str]
) -> dict[str, tuple[int, int | None]]:
    """monitoring.suppression's check: which of these posts were erased, and their tombstones."""
    keys = {post_key(channel.pk, external_id): external_id for external_id in external_ids}
    found = _sql(
        """SELECT e.key, m.id, m.ticket_id FROM privacy_erasedpost e
             JOIN monitoring_mention m ON m.id = e.mention_id
            WHERE e.key = ANY(%s)""",
        [list(keys)],
    )
    return {keys[key]: (mention_id, ticket_id) for key, mention_id, ticket_id in found}


# --------------------------------------------------------------------------- small helpers


def _sql(sql: str, params: Any) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _reindex_articles() -> None:
    for article in Article.objects.filter(search_vector__isnull=True):
        index_article(article)
