"""Every write of triage: suggestions for stored mentions, and the sweep that retries missing
ones. Called by tickets.intake (inside a savepoint, so a failing triage never blocks intake)
and by triage.tasks."""

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db import transaction

from monitoring.models import Mention
from servicedesk import lookups
from triage.actions.rulebook import _as_value, _is_review, load_rulebook
from triage.actions.training import apply_models_to, enqueue_retrain_if_due
from triage.apps import RULE_BOOK
from triage.choices import HEADS, LabelSource
from triage.models import Label, Suggestion
from triage.rules import RuleBook, suggest

logger = logging.getLogger(__name__)
SWEEP_BATCH = 500
SWEEP_WINDOW = timedelta(days=7)
_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def _near_duplicates(mentions: Sequence[Mention]) -> set[int]:
    """Review mentions whose text nearly equals another author's review on the same channel
    within a day (Jaccard of word 3-shingles ≥ 0.6)."""
    flagged: set[int] = set()
    for mention in mentions:
        others = Mention.objects.filter(
            channel_id=mention.channel_id,
            created_at__gte=mention.created_at - timedelta(days=1),
            created_at__lte=mention.created_at + timedelta(days=1),
        ).exclude(author_handle=mention.author_handle)[:50]
        mine = _shingles(mention.text)
        for other in others:
            theirs = _shingles(other.text)
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= 0.6:
                flagged.add(mention.pk)
                break
    return flagged


def active_rulebook() -> RuleBook:
    """The active rules, cached per process (servicedesk.lookups; cleared when a rule
    changes): what the suggest path and burst detection read."""
    return lookups.get(RULE_BOOK, "active", lambda: load_rulebook())


def suggest_for_mentions(
    mention_ids: Iterable[int], *, now: datetime, mentions: Sequence[Mention] | None = None
) -> int:
    """Store a suggestion for each given mention that has none yet; the number stored.
    `mentions`: the intake's just stored mentions (with their channel), not read again."""
    ids = list(mention_ids)
    if not ids:
        return 0
    if mentions is None:
        mentions = list(
            Mention.objects.filter(pk__in=ids, triage__isnull=True).select_related("channel")
        )
    if not mentions:
        return 0
    book = active_rulebook()
    reviews = [mention for mention in mentions if _is_review(mention)]
    duplicates = _near_duplicates(reviews)
    results = [
        suggest(
            mention.text,
            book,
            is_review=mention in reviews,
            is_own_account=mention.is_own_account,
            near_duplicate=mention.pk in duplicates,
        )
        for mention in mentions
    ]
    apply_models_to(results, [mention.text for mention in mentions])
    rows = [
        Suggestion(mention=mention, created_at=now, **result)
        for mention, result in zip(mentions, results, strict=True)
    ]
    Suggestion.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def suggest_in_intake(
    mention_ids: Sequence[int], *, now: datetime, mentions: Sequence[Mention] | None = None
) -> None:
    """The intake's call: inside a savepoint, and a failure is logged, never raised — the
    mention stays stored and `sweep_missing_suggestions` retries it. `mentions`: the new
    mentions as stored (new, so without a suggestion), to spare reading them back."""
    if not mention_ids:
        return
    try:
        with transaction.atomic():
            suggest_for_mentions(mention_ids, now=now, mentions=mentions)
    except Exception:
        logger.exception("triage failed for mentions %s; the sweep will retry", mention_ids[:10])


def sweep_missing_suggestions(*, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Suggest for recent mentions that have none (a failed or lost triage)."""
    ids = list(
        Mention.objects.filter(triage__isnull=True, received_at__gte=now - SWEEP_WINDOW)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        return suggest_for_mentions(ids, now=now)


def record_labels(
    mention: Mention,
    labels: dict[str, object],
    *,
    source: str,
    actor: object | None,
    now: datetime,
) -> list[Label]:
    """Record human decisions about `mention` as labels (one per head given); a decision
    of the same source on the same head replaces the earlier one. An erased post's
    tombstone is no training data (issue 15): nothing is recorded for it."""
    unknown = set(labels) - set(HEADS)
    if unknown:
        raise ValueError(f"unknown triage heads: {sorted(unknown)}")
    if source not in LabelSource.values:
        raise ValueError(f"unknown label source: {source}")
    if mention.is_erased:
        return []
    recorded = []
    for head, value in labels.items():
        label, _created = Label.objects.update_or_create(
            mention=mention,
            head=head,
            source=source,
            defaults={"value": _as_value(value), "actor": actor, "created_at": now},
        )
        recorded.append(label)
    if recorded:
        enqueue_retrain_if_due()
    return recorded
