"""Storing mentions: the only code that writes monitoring's mention tables.

tickets.intake calls these inside its transaction, in this order: `store_mentions` (new
mentions, idempotent on (channel, external id)), `record_revisions` (a known id with another
text), and, once each new mention is threaded, `attach_to_tickets` (its ticket and parent).
Moderation marks a mention hidden with `mark_hidden` once the platform has accepted.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from psycopg2.extras import Json, execute_values

from monitoring.adapters.base import RawMention
from monitoring.models import Channel, Mention, MentionRevision
from servicedesk.links import is_web_url

logger = logging.getLogger(__name__)


@dataclass
class StoredMention:
    """A mention row as the intake needs it: its id, its ticket (None until threaded, and
    for the channel's own posts), and for a known mention the text stored first."""

    id: int
    ticket_id: int | None
    text: str = ""
    url: str = ""  # of a new mention: the link as stored (checked_url)


def store_mentions(
    channel: Channel,
    mentions: Sequence[RawMention],
    identity_ids: Mapping[str, int],
    *,
    now: datetime,
) -> tuple[dict[str, StoredMention], dict[str, StoredMention]]:
    """INSERT the mentions of `channel` (external ids unique within `mentions`) … ON CONFLICT
    DO NOTHING, in one statement. Returns (inserted, known), each by external id. Of two
    concurrent intakes of the same mention the second waits for the first to commit and then
    finds it known. `identity_ids`: external id → the author's identity (own posts: none)."""
    rows = [
        (
            channel.pk,
            mention.external_id,
            identity_ids.get(mention.external_id),
            mention.author.handle[:255],
            mention.author.display_name[:255],
            mention.author.platform_user_id[:255],
            mention.text,
            mention.created_at,
            now,
            checked_url(channel, mention),
            mention.in_reply_to[:255],
            mention.is_private,
            channel.is_own_account(mention.author.handle),
            False,
            mention.language[:16],
            Json(mention.raw),
        )
        for mention in mentions
    ]
    with connection.cursor() as cursor:
        inserted_rows = execute_values(
            cursor,
            f"""INSERT INTO {Mention._meta.db_table} (channel_id, external_id, identity_id,
                author_handle, author_display_name, author_platform_user_id, text, created_at,
                received_at, url, in_reply_to, is_private, is_own_account, is_hidden, language,
                raw)
                VALUES %s ON CONFLICT (channel_id, external_id) DO NOTHING
                RETURNING id, external_id""",
            rows,
            page_size=max(len(rows), 1),
            fetch=True,
        )
    urls = {row[1]: row[9] for row in rows}
    inserted = {
        external_id: StoredMention(pk, None, url=urls[external_id])
        for pk, external_id in inserted_rows
    }
    missing = [mention.external_id for mention in mentions if mention.external_id not in inserted]
    known: dict[str, StoredMention] = {}
    if missing:
        for row in Mention.objects.filter(channel=channel, external_id__in=missing).values(
            "id", "external_id", "ticket_id", "text"
        ):
            known[row["external_id"]] = StoredMention(row["id"], row["ticket_id"], row["text"])
    return inserted, known


def checked_url(channel: Channel, mention: RawMention) -> str:
    """The mention's link if it is an absolute http(s) URL; anything else (an RSS item
    linking to `javascript:…`) is dropped with a log line, whichever adapter brought it."""
    if not mention.url or is_web_url(mention.url):
        return mention.url
    scheme = mention.url.split(":", 1)[0][:20] if ":" in mention.url else ""
    logger.warning(
        "channel %s mention %s: link dropped (not an http(s) URL; scheme %r)",
        channel.pk,
        mention.external_id[:64],
        scheme,
    )
    return ""


def record_revisions(
    known: Mapping[str, StoredMention], mentions: Sequence[RawMention], *, now: datetime
) -> None:
    """A known id with another text keeps its stored text; the new text becomes a revision
    (once per distinct text)."""
    changed = {
        mention.external_id: mention.text
        for mention in mentions
        if mention.external_id in known and known[mention.external_id].text != mention.text
    }
    if not changed:
        return
    ids = [known[external_id].id for external_id in changed]
    stored = set(
        MentionRevision.objects.filter(mention_id__in=ids).values_list("mention_id", "text")
    )
    MentionRevision.objects.bulk_create(
        [
            MentionRevision(mention_id=known[external_id].id, text=text, received_at=now)
            for external_id, text in changed.items()
            if (known[external_id].id, text) not in stored
        ]
    )


def attach_to_tickets(
    channel: Channel, ids: Sequence[int], ticket_ids: Sequence[int | None], parents: Sequence[str]
) -> None:
    """Set ticket and parent (by the parent's external id, "" for none) of new mentions of
    `channel` in one statement, and adopt stored replies whose parent arrives only now."""
    table = Mention._meta.db_table
    # One statement: the new mentions' update runs as a data-modifying WITH; the adoption
    # leaves the new mentions to it (they get their parent there).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH attached AS (
                    UPDATE {table} AS m SET ticket_id = v.ticket_id,
                        parent_id = (SELECT p.id FROM {table} p
                                     WHERE p.channel_id = %s AND p.external_id = v.parent)
                    FROM unnest(%s::bigint[], %s::bigint[], %s::text[])
                        AS v(id, ticket_id, parent)
                    WHERE m.id = v.id
                )
                UPDATE {table} AS child SET parent_id = parent.id
                FROM {table} AS parent
                WHERE child.channel_id = %s AND child.parent_id IS NULL
                  AND child.in_reply_to <> '' AND parent.channel_id = %s
                  AND parent.external_id = child.in_reply_to
                  AND parent.id = ANY(%s) AND child.id <> ALL(%s)""",
            [channel.pk, list(ids), list(ticket_ids), [parent or None for parent in parents],
             channel.pk, channel.pk, list(ids), list(ids)],
        )  # fmt: skip


def mark_hidden(mention: Mention) -> bool:
    """Mark `mention` hidden (its platform has hidden it). False if it already was; call
    inside the transaction that records the moderation."""
    locked = Mention.objects.select_for_update().get(pk=mention.pk)
    if locked.is_hidden:
        return False
    locked.is_hidden = True
    locked.save(update_fields=["is_hidden"])
    mention.is_hidden = True
    return True
