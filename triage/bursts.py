"""Burst detection (issue 14 §1): near-duplicate reports of one incident, clustered per brand
across platforms and languages, and a rate test per cluster against the brand's own baseline.

The only code that writes the burst tables. `observe` is called after intake has committed
(by the `tickets.detect_incidents` task) with mentions in arrival order; windows use the
posts' own `created_at`. A mention is reduced to its burst features (triage.burst_text) and
looks up its candidate clusters by index (the GIN index on the clusters' shared features,
restricted to the live clusters of its brand), never by scanning stored mentions. Each brand's
stream is serialised by a transaction-level advisory lock (taken with the mentions' read for
every brand their channels listen for), so two workers feeding the same brand at once never
open two clusters for one burst.

Rate test: a cluster opens when at least MIN_MEMBERS members were posted within WINDOW and
that count is improbable (Poisson tail below ALPHA) at the brand's baseline rate of incident
reports: the median, over the previous 24 hours, of its hourly report counts (a robust
baseline: the burst's own hour does not move it), never below BASELINE_FLOOR per minute.
"""

import json
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from psycopg2.extras import Json

from monitoring.models import Channel, Mention
from servicedesk import lookups
from triage.actions import active_rulebook
from triage.apps import RULE_BOOK
from triage.burst_text import (
    BUILT_IN,
    REPORT,
    BurstFeatures,
    Lexicon,
    Profile,
    features,
    match_score,
)
from triage.models import BurstCluster, BurstMember, BurstObservation, BurstRate

WINDOW = timedelta(minutes=20)  # the rate test counts the members posted within this span
JOIN_GAP = timedelta(minutes=30)  # a cluster takes no member posted this long after its last
MIN_MEMBERS = 4
ALPHA = 1e-3
BASELINE_HOURS = 24
BASELINE_FLOOR = 0.01  # reports per minute: a quiet brand still expects the odd complaint
_LOCK_NAMESPACE = 1414  # first key of pg_advisory_xact_lock(int, int) for burst streams

# How a title names the incident concepts and subjects of triage.burst_text (translated).
LABELS = {
    "outage": gettext_noop("outage"), "failure": gettext_noop("failure"),
    "delay": gettext_noop("delay"), "internet": gettext_noop("Internet"),
    "network": gettext_noop("mobile network"), "phone": gettext_noop("landline"),
    "hotline": gettext_noop("Hotline"), "app": gettext_noop("App"),
    "login": gettext_noop("Login"), "website": gettext_noop("website"),
    "tracking": gettext_noop("parcel tracking"), "parcel": gettext_noop("parcels"),
    "train": gettext_noop("trains"), "station": gettext_noop("station"),
    "booking": gettext_noop("booking"), "payment": gettext_noop("payment"),
    "tv": gettext_noop("TV"),
}  # fmt: skip


@dataclass(frozen=True)
class BurstSignal:
    cluster_id: int  # stable id of the burst cluster (BurstCluster pk)
    mention_ids: tuple[int, ...]  # all members so far, arrival order
    new_mention_ids: tuple[int, ...]  # members added by this call
    opened: bool  # True exactly once: the call in which the cluster passed the rate test
    title: str  # e.g. "Telvia: Störung Internet (Köln)"
    started_at: datetime  # first member's created_at
    reasons: tuple[str, ...]
    terms: tuple[str, ...]
    locations: tuple[str, ...]
    volume_per_minute: float
    baseline_per_minute: float


def poisson_tail(count: int, expected: float) -> float:
    """P(X ≥ count) for X ~ Poisson(expected)."""
    if count <= 0:
        return 1.0
    term = math.exp(-expected)
    below = term
    for k in range(1, count):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def lexicon() -> Lexicon:
    """The built-in lexicon with the desk's own words (triage rules of the incident kinds),
    cached per process with the rule book (servicedesk.lookups)."""

    def load() -> Lexicon:
        book = active_rulebook()
        return BUILT_IN.extended(book.incident_terms, book.incident_subjects, book.incident_places)

    return lookups.get(RULE_BOOK, "burst-lexicon", load)


def mention_features(
    text: str, keywords: Sequence[str], *, own: bool = False, words: Lexicon = BUILT_IN
) -> BurstFeatures:
    """The burst features of a mention on a channel listening for `keywords` (a channel with
    one keyword is that brand's) with the lexicon `words`; the brand's own posts report
    nothing."""
    fallback = keywords[0] if len(keywords) == 1 else ""
    found = features(text, keywords, fallback_stream=fallback, lexicon=words)
    if own:
        return BurstFeatures(found.stream, "own", frozenset(), frozenset(), frozenset(),
                             frozenset(), found.language)  # fmt: skip
    return found


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _profile(cluster: BurstCluster) -> Profile:
    return Profile(members=cluster.member_count, counts=cluster.counts)


def _refresh(cluster: BurstCluster) -> None:
    """Recompute the cluster's shared features and span from its members (after a hand edit)."""
    members = list(cluster.members.values_list("keys", "created_at"))
    counts = Counter(key for keys, _created in members for key in keys)
    cluster.counts = dict(sorted(counts.items()))
    cluster.keys = sorted(counts)
    cluster.member_count = len(members)
    if members:
        cluster.started_at = min(created for _keys, created in members)
        cluster.last_at = max(created for _keys, created in members)
    cluster.save(update_fields=["counts", "keys", "member_count", "started_at", "last_at"])


# observe's statements are written out: through the ORM, compiling them cost the detector
# more CPU than the database spent on them (bench/bursts.py).
_CLUSTERS, _MEMBERS = BurstCluster._meta.db_table, BurstMember._meta.db_table
_OBSERVATIONS, _RATES = BurstObservation._meta.db_table, BurstRate._meta.db_table

# The mentions, and the locks of every brand their channels listen for (a mention's stream
# is one of its channel's keywords), taken in one order by all workers: whatever the next
# statements read of the clusters, no other worker changes it before this one commits.
MENTIONS_SQL = f"""
WITH wanted AS (
    SELECT m.id, m.text, m.created_at, m.is_own_account, c.keywords
    FROM {Mention._meta.db_table} m JOIN {Channel._meta.db_table} c ON c.id = m.channel_id
    WHERE m.id = ANY(%(ids)s)
), locks AS (
    SELECT pg_advisory_xact_lock({_LOCK_NAMESPACE}, k.key)
    FROM (SELECT DISTINCT hashtext(unnest(keywords)) AS key FROM wanted) k ORDER BY k.key
)
SELECT wanted.*, (SELECT count(*) FROM locks) FROM wanted"""

# Mentions that are not new reports: recorded as observed (a mention observed before stays
# as it was).
OBSERVED_SQL = f"""INSERT INTO {_OBSERVATIONS} (mention_id, stream, kind, observed_at)
    SELECT *, %(now)s FROM unnest(%(ids)s::bigint[], %(stream_of)s::text[], %(kinds)s::text[])
    ON CONFLICT (mention_id) DO NOTHING"""

# The live clusters of the report's brand that share a feature with it (GIN index on keys,
# partial index on the live clusters' last post), oldest first. For a cluster that may pass
# the rate test with this member: its members' post times in the WINDOW up to its new last
# post and the brand's hourly report counts of the BASELINE_HOURS before its first post's
# hour. For one that is or may become open: its members in order (the signal's).
_MAY_OPEN = f"c.opened_at IS NULL AND c.member_count + 1 >= {MIN_MEMBERS}"
_FIRST_HOUR = "date_trunc('hour', least(c.started_at, %(at)s), 'UTC')"
CANDIDATES_SQL = f"""
SELECT c.id, c.counts::text, c.member_count, c.started_at, c.last_at, c.opened_at,
    c.volume_per_minute, c.baseline_per_minute,
    CASE WHEN {_MAY_OPEN} THEN ARRAY(
        SELECT m.created_at FROM {_MEMBERS} m WHERE m.cluster_id = c.id
        AND m.created_at >= greatest(c.last_at, %(at)s) - %(window)s) END,
    CASE WHEN {_MAY_OPEN} THEN ARRAY(
        SELECT r.reports FROM {_RATES} r WHERE r.stream = c.stream
        AND r.hour >= {_FIRST_HOUR} - %(baseline)s AND r.hour < {_FIRST_HOUR}) END,
    CASE WHEN c.opened_at IS NOT NULL OR {_MAY_OPEN} THEN ARRAY(
        SELECT m.mention_id FROM {_MEMBERS} m WHERE m.cluster_id = c.id ORDER BY m.id) END
FROM {_CLUSTERS} c
WHERE c.stream = %(stream)s AND c.ended_at IS NULL AND c.last_at >= %(after)s
    AND c.started_at <= %(before)s AND c.keys && %(keys)s::varchar[]
ORDER BY c.id"""

# A new report's membership: recorded as observed, counted in its brand's hour, and only
# if it was not observed before (by another worker, or by a hand edit of a cluster of
# another brand) added to its cluster. A row comes back when it was added.
_REPORT_OBSERVED = f"""
WITH observed AS (
    INSERT INTO {_OBSERVATIONS} (mention_id, stream, kind, observed_at)
    VALUES (%(mention)s, %(stream)s, '{REPORT}', %(now)s)
    ON CONFLICT (mention_id) DO NOTHING RETURNING mention_id
), counted AS (
    INSERT INTO {_RATES} (stream, hour, reports) SELECT %(stream)s, %(hour)s, 1 FROM observed
    ON CONFLICT (stream, hour) DO UPDATE SET reports = {_RATES}.reports + 1
)"""
_MEMBER_INSERT = f"""INSERT INTO {_MEMBERS} (cluster_id, mention_id, keys, created_at, by_hand)
    SELECT id, %(mention)s, %(member_keys)s, %(at)s, false FROM cluster RETURNING cluster_id"""
NEW_CLUSTER_SQL = f"""{_REPORT_OBSERVED}, cluster AS (
    INSERT INTO {_CLUSTERS} (stream, keys, counts, member_count, started_at, last_at,
        volume_per_minute, baseline_per_minute)
    SELECT %(stream)s, %(keys)s, %(counts)s, 1, %(at)s, %(at)s, 0, 0 FROM observed RETURNING id
) {_MEMBER_INSERT}"""
JOIN_CLUSTER_SQL = f"""{_REPORT_OBSERVED}, cluster AS (
    UPDATE {_CLUSTERS} SET keys = %(keys)s, counts = %(counts)s, member_count = %(members)s,
        started_at = %(started_at)s, last_at = %(last_at)s, opened_at = %(opened_at)s,
        volume_per_minute = %(volume)s, baseline_per_minute = %(baseline)s
    WHERE id = %(cluster)s AND EXISTS (SELECT FROM observed) RETURNING id
) {_MEMBER_INSERT}"""


@dataclass
class _Candidate:
    """A live cluster as CANDIDATES_SQL read it, then as this member leaves it."""

    cluster: BurstCluster
    recent: list[datetime] | None  # members' post times in the window (when it may open)
    hourly: list[int] | None  # the baseline's hourly report counts (when it may open)
    members: list[int] | None  # mention ids in order (when it is or may become open)


def _candidates(found: BurstFeatures, created_at: datetime) -> list[_Candidate]:
    with connection.cursor() as cursor:
        cursor.execute(
            CANDIDATES_SQL,
            {
                "stream": found.stream, "keys": found.keys, "at": created_at,
                "after": created_at - JOIN_GAP, "before": created_at + JOIN_GAP,
                "window": WINDOW, "baseline": timedelta(hours=BASELINE_HOURS),
            },
        )  # fmt: skip
        rows = cursor.fetchall()
    return [
        _Candidate(
            BurstCluster(
                pk=pk, stream=found.stream, counts=json.loads(counts), member_count=members,
                started_at=started_at, last_at=last_at, opened_at=opened_at,
                volume_per_minute=volume, baseline_per_minute=baseline,
            ),
            recent, hourly, member_ids,
        )  # fmt: skip
        for pk, counts, members, started_at, last_at, opened_at, volume, baseline, recent,
        hourly, member_ids in rows
    ]  # fmt: skip


def _best(found: BurstFeatures, candidates: list[_Candidate]) -> _Candidate | None:
    """The candidate that `found` matches best (oldest on a tie)."""
    best, best_score = None, 0
    for candidate in candidates:
        score = match_score(found, _profile(candidate.cluster))
        if score > best_score:
            best, best_score = candidate, score
    return best


def _median_baseline(hourly: list[int]) -> float:
    """Reports per minute: the median of BASELINE_HOURS hourly counts (absent hours count 0)."""
    counts = hourly + [0] * (BASELINE_HOURS - len(hourly))
    return max(statistics.median(counts) / 60.0, BASELINE_FLOOR)


def _add(cluster: BurstCluster, created_at: datetime, keys: Sequence[str]) -> None:
    """The cluster's profile with one more member (in memory)."""
    counts = Counter(cluster.counts)
    counts.update(keys)
    cluster.counts = dict(sorted(counts.items()))
    cluster.keys = sorted(counts)
    cluster.member_count += 1
    cluster.started_at = min(cluster.started_at, created_at)
    cluster.last_at = max(cluster.last_at, created_at)


def _rate_test(candidate: _Candidate, created_at: datetime, *, now: datetime) -> bool:
    """Open the cluster (its new member added) if its members in the WINDOW up to its last
    post beat the baseline; a cluster below MIN_MEMBERS cannot pass."""
    cluster = candidate.cluster
    if cluster.opened_at is not None or candidate.recent is None or candidate.hourly is None:
        return False
    in_window = list(candidate.recent)
    if created_at >= cluster.last_at - WINDOW:
        in_window.append(created_at)
    count = len(in_window)
    baseline = _median_baseline(candidate.hourly)
    span_minutes = max((max(in_window) - min(in_window)).total_seconds() / 60.0, 1.0)
    cluster.volume_per_minute = round(count / span_minutes, 3)
    cluster.baseline_per_minute = round(baseline, 4)
    passed = count >= MIN_MEMBERS and poisson_tail(count, baseline * WINDOW.seconds / 60) < ALPHA
    if passed:
        cluster.opened_at = now
    return passed


def _join(found: BurstFeatures, mention_id: int, created_at: datetime, *, now: datetime
          ) -> tuple[_Candidate | None, bool] | None:  # fmt: skip
    """Add a new report to its best live cluster, or start a cluster with it. Returns the
    joined candidate (None for a new cluster) and whether it opened with this member; None
    when the mention had been observed before."""
    keys = found.keys  # sorted
    params = {
        "mention": mention_id, "member_keys": keys, "at": created_at, "stream": found.stream,
        "hour": _hour(created_at), "now": now,
    }  # fmt: skip
    candidate = _best(found, _candidates(found, created_at))
    with connection.cursor() as cursor:
        if candidate is None:
            counts = dict.fromkeys(keys, 1)
            cursor.execute(NEW_CLUSTER_SQL, params | {"keys": keys, "counts": Json(counts)})
            return (None, False) if cursor.fetchone() else None
        cluster = candidate.cluster
        _add(cluster, created_at, keys)
        opened = _rate_test(candidate, created_at, now=now)
        cursor.execute(
            JOIN_CLUSTER_SQL,
            params | {
                "cluster": cluster.pk, "keys": cluster.keys, "counts": Json(cluster.counts),
                "members": cluster.member_count, "started_at": cluster.started_at,
                "last_at": cluster.last_at, "opened_at": cluster.opened_at,
                "volume": cluster.volume_per_minute, "baseline": cluster.baseline_per_minute,
            },
        )  # fmt: skip
        if cursor.fetchone() is None:
            return None
    if candidate.members is not None:
        candidate.members.append(mention_id)
    return candidate, opened


@transaction.atomic(savepoint=False)
def observe(mention_ids: Sequence[int], *, now: datetime) -> list[BurstSignal]:
    """Feed stored mentions (arrival order) to the detector. Returns one signal per opened
    cluster that gained members in this call; a mention observed before is skipped. Runs in
    the caller's transaction (tickets.actions.incidents.detect_incidents) without a savepoint
    of its own: a failure here fails the caller's transaction anyway.

    A call costs one statement for its mentions (with the brands' locks) and one for the
    observations of those that are not reports; each report two (its candidate clusters with
    what their rate test needs, then its observation and membership)."""
    with connection.cursor() as cursor:
        cursor.execute(MENTIONS_SQL, {"ids": list(mention_ids)})
        rows = cursor.fetchall()
    words = lexicon()
    by_id = {pk: (created, mention_features(text, keywords, own=own, words=words))
             for pk, text, created, own, keywords, _locks in rows}  # fmt: skip
    order = [pk for pk in dict.fromkeys(mention_ids) if pk in by_id]
    added: dict[int, list[int]] = {}
    opened_now: set[int] = set()
    joined: dict[int, _Candidate] = {}
    others = []
    for pk in order:
        created_at, feature = by_id[pk]
        if not feature.stream or feature.kind != REPORT:
            others.append(pk)
            continue
        outcome = _join(feature, pk, created_at, now=now)
        if outcome is None or outcome[0] is None:
            continue
        candidate, opened = outcome
        joined[candidate.cluster.pk] = candidate
        added.setdefault(candidate.cluster.pk, []).append(pk)
        if opened:
            opened_now.add(candidate.cluster.pk)
    if others:
        with connection.cursor() as cursor:
            cursor.execute(
                OBSERVED_SQL,
                {
                    "ids": others, "stream_of": [by_id[pk][1].stream for pk in others],
                    "kinds": [by_id[pk][1].kind for pk in others], "now": now,
                },
            )  # fmt: skip
    return [
        signal(
            candidate.cluster, new=added[pk], opened=pk in opened_now, members=candidate.members
        )  # fmt: skip
        for pk, candidate in sorted(joined.items())
        if candidate.cluster.opened_at is not None
    ]


def _named(term: str) -> str:
    """A concept or subject as titles and reasons name it: translated if built in, else as
    the desk's rule names it."""
    return _(LABELS[term]) if term in LABELS else term


def signal(
    cluster: BurstCluster, *, new: Sequence[int], opened: bool, members: Sequence[int] | None
) -> BurstSignal:
    """The signal of an opened cluster: on opening all members count as new. `members`: its
    mention ids in order when the caller has them (read from the database otherwise)."""
    if members is None:
        members = cluster.members.order_by("pk").values_list("mention_id", flat=True)
    members = tuple(members)
    profile = _profile(cluster)
    concepts = sorted(profile.common("c:"), key=lambda c: (-cluster.counts[f"c:{c}"], c))
    subjects = sorted(profile.common("s:"), key=lambda s: (-cluster.counts[f"s:{s}"], s))
    locations = tuple(sorted(profile.common("l:"), key=lambda p: (-cluster.counts[f"l:{p}"], p)))
    identifiers = sorted(profile.common("i:"))
    terms = tuple(concepts + subjects + identifiers)
    shown_identifiers = [i.upper() for i in identifiers]
    named = [_named(term) for term in concepts[:1] + subjects[:1]]
    title = f"{cluster.stream}: " + " ".join(named + shown_identifiers[:1])
    if locations:
        title += f" ({', '.join(locations[:2])})"
    reasons = [
        _("%(count)d near-identical reports about %(brand)s")
        % {"count": cluster.member_count, "brand": cluster.stream},
        _("shared terms: %(terms)s")
        % {"terms": ", ".join([_named(t) for t in concepts + subjects] + shown_identifiers)},
    ]
    if locations:
        reasons.append(_("locations: %(places)s") % {"places": ", ".join(locations)})
    reasons.append(
        _("volume %(volume)s per minute against a baseline of %(baseline)s per minute")
        % {
            "volume": formats.number_format(cluster.volume_per_minute, 2),
            "baseline": formats.number_format(cluster.baseline_per_minute, 3),
        }
    )
    return BurstSignal(
        cluster_id=cluster.pk,
        mention_ids=members,
        new_mention_ids=members if opened else tuple(new),
        opened=opened,
        title=title,
        started_at=cluster.started_at,
        reasons=tuple(reasons),
        terms=terms,
        locations=locations,
        volume_per_minute=cluster.volume_per_minute,
        baseline_per_minute=cluster.baseline_per_minute,
    )


@transaction.atomic
def end_cluster(cluster_id: int, *, now: datetime) -> None:
    """The incident is over: later posts (\"Internet ist wieder da\") join no more."""
    BurstCluster.objects.filter(pk=cluster_id, ended_at__isnull=True).update(ended_at=now)


def lock_brand(cluster_id: int) -> None:
    """Take the lock observe takes for the cluster's brand, for the rest of the transaction.
    A caller that locks rows the detector also writes after it (the cluster, its incident)
    takes this first, in the detector's order, so the two never deadlock."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_advisory_xact_lock({_LOCK_NAMESPACE}, hashtext(stream)) FROM {_CLUSTERS}"
            " WHERE id = %s",
            [cluster_id],
        )


def _locked(cluster_id: int) -> BurstCluster:
    """The cluster, locked after its brand (in observe's order)."""
    lock_brand(cluster_id)
    return BurstCluster.objects.select_for_update().get(pk=cluster_id)


@transaction.atomic
def add_member(cluster_id: int, mention_id: int) -> None:
    """A CM adds a mention to the burst by hand (it leaves any other cluster)."""
    cluster = _locked(cluster_id)
    mention = Mention.objects.select_related("channel").get(pk=mention_id)
    previous = BurstMember.objects.filter(mention=mention).select_related("cluster").first()
    if previous is not None:
        if previous.cluster_id == cluster.pk:
            return
        old = previous.cluster
        previous.delete()
        _refresh(old)
    found = mention_features(
        mention.text, mention.channel.keywords, own=mention.is_own_account, words=lexicon()
    )
    BurstObservation.objects.get_or_create(
        mention=mention,
        defaults={
            "stream": cluster.stream,
            "kind": found.kind,
            "observed_at": mention.received_at,
        },  # fmt: skip
    )
    BurstMember.objects.create(
        cluster=cluster, mention=mention, keys=found.keys, created_at=mention.created_at,
        by_hand=True,
    )  # fmt: skip
    _refresh(cluster)


@transaction.atomic
def remove_member(cluster_id: int, mention_id: int) -> None:
    """A CM removes a mention from the burst; observing it again does not bring it back."""
    cluster = _locked(cluster_id)
    deleted, _rows = BurstMember.objects.filter(cluster=cluster, mention_id=mention_id).delete()
    if deleted:
        _refresh(cluster)


def members_of(cluster_id: int) -> list[int]:
    return list(
        BurstMember.objects.filter(cluster_id=cluster_id)
        .order_by("pk")
        .values_list("mention_id", flat=True)
    )
