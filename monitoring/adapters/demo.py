"""The demo channel: replays the sample corpus as live traffic, so the desk is alive.

Every poll advances the cursor (a step counter) by one and emits 0–2 mentions of that step,
built from `monitoring/demo_data/sample_mentions.jsonl` (synthetic, shipped with the project):
fresh external ids (`demo-<step>-<n>`), `created_at` a few seconds before now, rotating
authors, sometimes private messages, and some replies: a follow-up by the author of an
earlier demo mention (in reply to it, so `customer_replied` fires on a waiting ticket) or an
answer to a reply the desk sent on this channel.

What a step emits is decided by the step number alone (a seeded random generator), so a
poll re-run after a crash emits the same ids again and the intake stores nothing twice. The
one input from outside is the demo platform's memory of the replies it was sent (kept in the
cache, like a real platform's state): which sent reply a follow-up answers.

Sending works too (public, private, hide, block), with a platform id derived from the reply
id: sending the same reply twice yields the same post, as an idempotency key would.
"""

import json
import logging
import random
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from django.core.cache import cache as platform_memory
from django.utils import timezone

from monitoring.adapters.base import (
    Capability,
    FetchResult,
    OutgoingReply,
    RawAuthor,
    RawMention,
    SentReply,
)

logger = logging.getLogger(__name__)

CORPUS_PATH = Path(__file__).resolve().parent.parent / "demo_data" / "sample_mentions.jsonl"
MENTIONS_PER_STEP = (0, 1, 1, 2)  # drawn per poll: on average one mention per poll
FOLLOW_UP_SHARE = 0.2  # of emitted mentions: a follow-up to an earlier demo mention
ANSWER_TO_REPLY_SHARE = 0.15  # of emitted mentions: an answer to a reply the desk sent
PRIVATE_SHARE = 0.15  # of new mentions: a private message
FOLLOW_UP_LOOKBACK_STEPS = 12
POSTED_REPLIES_KEPT = 20
FOLLOW_UPS = (
    "Gibt es schon etwas Neues?",
    "Hallo? Ich warte immer noch auf eine Antwort.",
    "Any update on this?",
    "Ich habe euch gerade per DM geschrieben.",
    "Still not solved, unfortunately.",
)
ANSWERS_TO_REPLIES = (
    "Danke, das hat geholfen!",
    "Thanks, that worked 👍",
    "Leider klappt es immer noch nicht.",
    "Ok, ich schicke euch die Daten per Direktnachricht.",
)


@cache
def corpus() -> tuple[dict[str, Any], ...]:
    """The opening posts of the sample corpus (replies in it are threads of other brands)."""
    rows = []
    with CORPUS_PATH.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                if not row.get("in_reply_to"):
                    rows.append(row)
    return tuple(rows)


def _rng(slug: str, step: int, salt: str = "") -> random.Random:
    return random.Random(f"demo:{slug}:{step}:{salt}")


def _plan(slug: str, step: int) -> list[tuple[str, float]]:
    """The kinds of mention a step emits ("new", "follow_up", "answer") with a draw each."""
    rng = _rng(slug, step)
    plan = []
    for _index in range(rng.choice(MENTIONS_PER_STEP)):
        roll = rng.random()
        if roll < FOLLOW_UP_SHARE and step > 0:
            plan.append(("follow_up", rng.random()))
        elif roll < FOLLOW_UP_SHARE + ANSWER_TO_REPLY_SHARE:
            plan.append(("answer", rng.random()))
        else:
            plan.append(("new", rng.random()))
    return plan


def _original(slug: str, step: int, index: int) -> dict[str, Any]:
    """The sample row and privacy of the new mention `index` of `step`."""
    rows = corpus()
    row = rows[(step * 2 + index) % len(rows)]
    is_private = _rng(slug, step, f"private:{index}").random() < PRIVATE_SHARE
    return {"row": row, "is_private": is_private, "external_id": f"demo-{step}-{index}"}


def _earlier_original(slug: str, step: int, draw: float) -> dict[str, Any] | None:
    candidates = []
    for earlier in range(max(0, step - FOLLOW_UP_LOOKBACK_STEPS), step):
        for index, (kind, _draw) in enumerate(_plan(slug, earlier)):
            if kind == "new":
                candidates.append(_original(slug, earlier, index))
    if not candidates:
        return None
    return candidates[int(draw * len(candidates)) % len(candidates)]


def _posted_key(slug: str) -> str:
    return f"demo-platform:{slug}:posted"


def _posted_replies(slug: str) -> list[dict[str, str]]:
    try:
        return list(platform_memory.get(_posted_key(slug)) or [])
    except Exception:  # the cache only makes the demo livelier; it may be down
        logger.warning("demo platform memory unavailable for channel %s", slug)
        return []


class DemoAdapter:
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"fetch", "reply_public", "reply_private", "hide", "block"}
    )
    has_idempotency_keys: ClassVar[bool] = True

    def fetch(self, channel: Any, cursor: str | None) -> FetchResult:
        try:
            step = int(cursor or 0)
        except ValueError:
            step = 0
        now = timezone.now()
        mentions = self.mentions_of_step(channel.slug, step, now=now)
        return FetchResult(mentions=mentions, next_cursor=str(step + 1))

    def mentions_of_step(self, slug: str, step: int, *, now: Any) -> list[RawMention]:
        posted = _posted_replies(slug)
        mentions = []
        for index, (kind, draw) in enumerate(_plan(slug, step)):
            age = timedelta(seconds=2 + int(draw * 10))
            external_id = f"demo-{step}-{index}"
            if kind == "follow_up":
                parent = _earlier_original(slug, step, draw)
                if parent is not None:
                    row = parent["row"]
                    mentions.append(
                        RawMention(
                            external_id=external_id,
                            author=_author(row),
                            text=FOLLOW_UPS[int(draw * len(FOLLOW_UPS)) % len(FOLLOW_UPS)],
                            created_at=now - age,
                            in_reply_to=parent["external_id"],
                            is_private=parent["is_private"],
                            language="",
                            raw={"demo_step": step},
                        )
                    )
                    continue
            if kind == "answer" and posted:
                target = posted[int(draw * len(posted)) % len(posted)]
                mentions.append(
                    RawMention(
                        external_id=external_id,
                        author=RawAuthor(
                            handle=target["handle"],
                            display_name=target.get("name", ""),
                            platform_user_id=target.get("user_id", ""),
                        ),
                        text=ANSWERS_TO_REPLIES[
                            int(draw * len(ANSWERS_TO_REPLIES)) % len(ANSWERS_TO_REPLIES)
                        ],
                        created_at=now - age,
                        in_reply_to=target["platform_id"],
                        is_private=target.get("visibility") == "private",
                        raw={"demo_step": step},
                    )
                )
                continue
            original = _original(slug, step, index)
            row = original["row"]
            mentions.append(
                RawMention(
                    external_id=external_id,
                    author=_author(row),
                    text=str(row["text"]),
                    created_at=now - age,
                    is_private=original["is_private"],
                    raw={"demo_step": step, "sample_id": row.get("external_id", "")},
                )
            )
        return mentions

    def send_reply(self, channel: Any, reply: OutgoingReply) -> SentReply:
        platform_id = f"demo-reply-{reply.reply_id}"
        posted = [
            item for item in _posted_replies(channel.slug) if item["platform_id"] != platform_id
        ]
        posted.append(
            {
                "platform_id": platform_id,
                "handle": reply.recipient_handle,
                "user_id": reply.recipient_platform_user_id,
                "visibility": reply.visibility,
            }
        )
        try:
            platform_memory.set(_posted_key(channel.slug), posted[-POSTED_REPLIES_KEPT:], None)
        except Exception:  # the reply still counts as posted; only follow-ups get fewer
            logger.warning("demo platform memory unavailable for channel %s", channel.slug)
        return SentReply(platform_id=platform_id)

    def find_sent_reply(self, channel: Any, reply: OutgoingReply) -> SentReply | None:
        return SentReply(platform_id=f"demo-reply-{reply.reply_id}")

    def hide(self, channel: Any, external_id: str) -> None:
        return None

    def block(self, channel: Any, author: RawAuthor) -> None:
        return None


def _author(row: dict[str, Any]) -> RawAuthor:
    return RawAuthor(handle=str(row["author_handle"]), display_name=str(row.get("author_name", "")))
