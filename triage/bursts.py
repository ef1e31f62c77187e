"""Burst detection (issue 14 §1): near-duplicate reports of one incident, clustered per brand
across platforms and languages, and a rate test per cluster against the brand's own baseline.

The only code that writes the burst tables. `observe` is called after intake has committed
(by the `tickets.detect_incidents` task) with mentions in arrival order; windows use the
posts' own `created_at`. A mention is reduced to its burst features (triage.burst_text) and
looks up its candidate clusters by index (the GIN index on the clusters' shared features,
restricted to the live clusters of its brand), never by scanning stored mentions. Each brand's
stream is serialised by a transaction-level advisory lock, so two workers feeding the same
brand at once never open two clusters for one burst.

Rate test: a cluster opens when at least MIN_MEMBERS members were posted within WINDOW and
that count is improbable (Poisson tail below ALPHA) at the brand's baseline rate of incident
reports: the median, over the previous 24 hours, of its hourly report counts (a robust
baseline: the burst's own hour does not move it), never below BASELINE_FLOOR per minute.
"""

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from psycopg2.extras import execute_values

from monitoring.models import Mention
from triage.burst_text import REPORT, BurstFeatures, Profile, features, match_score
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


def mention_features(text: str, keywords: Sequence[str], *, own: bool = False) -> BurstFeatures:
    """The burst features of a mention on a channel listening for `keywords` (a channel with
    one keyword is that brand's); the brand's own posts report nothing."""
    found = features(text, keywords, fallback_stream=keywords[0] if len(keywords) == 1 else "")
    if own:
        return BurstFeatures(found.stream, "own", frozenset(), frozenset(), frozenset(),
                             frozenset(), found.language)  # fmt: skip
    return found


def _lock_streams(streams: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        for stream in sorted(set(streams)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, stream]
            )


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def baseline_per_minute(stream: str, at: datetime) -> float:
    """The median hourly report count of `stream` over the BASELINE_HOURS before `at`'s hour."""
    end = _hour(at)
    counts = list(
        BurstRate.objects.filter(
            stream=stream, hour__gte=end - timedelta(hours=BASELINE_HOURS), hour__lt=end
        ).values_list("reports", flat=True)
    )
    counts += [0] * (BASELINE_HOURS - len(counts))
    return max(statistics.median(counts) / 60.0, BASELINE_FLOOR)


def _count_report(stream: str, at: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {BurstRate._meta.db_table} (stream, hour, reports) VALUES (%s, %s, 1)
                ON CONFLICT (stream, hour) DO UPDATE SET reports = EXCLUDED.reports
                + {BurstRate._meta.db_table}.reports""",
            [stream, _hour(at)],
        )


def _profile(cluster: BurstCluster) -> Profile:
    return Profile(members=cluster.member_count, counts=cluster.counts)


def _candidate(found: BurstFeatures, created_at: datetime) -> BurstCluster | None:
    """The live cluster of the same brand that `found` matches best (oldest on a tie)."""
    candidates = BurstCluster.objects.filter(
        stream=found.stream,
        ended_at__isnull=True,
        last_at__gte=created_at - JOIN_GAP,
        started_at__lte=created_at + JOIN_GAP,
        keys__overlap=found.keys,
    ).order_by("pk")
    best, best_score = None, 0
    for cluster in candidates:
        score = match_score(found, _profile(cluster))
        if score > best_score:
            best, best_score = cluster, score
    return best


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


def _add(cluster: BurstCluster, mention_id: int, created_at: datetime, keys: list[str]) -> None:
    """A detected member: one INSERT, the cluster's profile updated in memory (saved by the
    caller)."""
    BurstMember.objects.create(
        cluster=cluster, mention_id=mention_id, keys=keys, created_at=created_at
    )
    counts = Counter(cluster.counts)
    counts.update(keys)
    cluster.counts = dict(sorted(counts.items()))
    cluster.keys = sorted(counts)
    cluster.member_count += 1
    cluster.started_at = min(cluster.started_at, created_at)
    cluster.last_at = max(cluster.last_at, created_at)


def _rate_test(cluster: BurstCluster, *, now: datetime) -> bool:
    """Open the cluster if its members in the WINDOW up to its last post beat the baseline
    (no query below MIN_MEMBERS members: such a cluster cannot pass)."""
    if cluster.member_count < MIN_MEMBERS:
        return False
    in_window = sorted(
        cluster.members.filter(created_at__gte=cluster.last_at - WINDOW).values_list(
            "created_at", flat=True
        )
    )
    count = len(in_window)
    baseline = baseline_per_minute(cluster.stream, cluster.started_at)
    span_minutes = max((in_window[-1] - in_window[0]).total_seconds() / 60.0, 1.0) if count else 1
    cluster.volume_per_minute = round(count / span_minutes, 3)
    cluster.baseline_per_minute = round(baseline, 4)
    passed = count >= MIN_MEMBERS and poisson_tail(count, baseline * WINDOW.seconds / 60) < ALPHA
    if passed:
        cluster.opened_at = now
    return passed


def _observed(rows: list[tuple[int, str, str]], *, now: datetime) -> set[int]:
    """Record the observations (mention id, stream, kind); returns the ids not seen before.
    Of two workers recording one mention the second waits for the first and skips it."""
    if not rows:
        return set()
    with connection.cursor() as cursor:
        inserted = execute_values(
            cursor,
            f"""INSERT INTO {BurstObservation._meta.db_table} (mention_id, stream, kind,
                observed_at) VALUES %s ON CONFLICT (mention_id) DO NOTHING RETURNING mention_id""",
            [(pk, stream, kind, now) for pk, stream, kind in rows],
            page_size=max(len(rows), 1),
            fetch=True,
        )
    return {row[0] for row in inserted}


@transaction.atomic
def observe(mention_ids: Sequence[int], *, now: datetime) -> list[BurstSignal]:
    """Feed stored mentions (arrival order) to the detector. Returns one signal per opened
    cluster that gained members in this call; a mention observed before is skipped."""
    rows = Mention.objects.filter(pk__in=mention_ids).values_list(
        "pk", "text", "created_at", "is_own_account", "channel__keywords"
    )
    by_id = {pk: (created, mention_features(text, keywords, own=own))
             for pk, text, created, own, keywords in rows}  # fmt: skip
    order = [pk for pk in dict.fromkeys(mention_ids) if pk in by_id]
    _lock_streams(f.stream for _c, f in by_id.values() if f.stream and f.kind == REPORT)
    new = _observed([(pk, by_id[pk][1].stream, by_id[pk][1].kind) for pk in order], now=now)
    added: dict[int, list[int]] = {}
    opened_now: set[int] = set()
    clusters: dict[int, BurstCluster] = {}
    for pk in order:
        created_at, feature = by_id[pk]
        if pk not in new or not feature.stream or feature.kind != REPORT:
            continue
        _count_report(feature.stream, created_at)
        cluster = _candidate(feature, created_at) or BurstCluster(
            stream=feature.stream, started_at=created_at, last_at=created_at
        )
        if cluster.pk is None:
            cluster.save()
        cluster = clusters.setdefault(cluster.pk, cluster)
        _add(cluster, pk, created_at, feature.keys)
        added.setdefault(cluster.pk, []).append(pk)
        if cluster.opened_at is None and _rate_test(cluster, now=now):
            opened_now.add(cluster.pk)
        cluster.save()
    return [
        signal(clusters[pk], new=added[pk], opened=pk in opened_now)
        for pk in sorted(added)
        if clusters[pk].opened_at is not None
    ]


def signal(cluster: BurstCluster, *, new: Sequence[int], opened: bool) -> BurstSignal:
    """The signal of an opened cluster: on opening all members count as new."""
    members = tuple(cluster.members.order_by("pk").values_list("mention_id", flat=True))
    profile = _profile(cluster)
    concepts = sorted(profile.common("c:"), key=lambda c: (-cluster.counts[f"c:{c}"], c))
    subjects = sorted(profile.common("s:"), key=lambda s: (-cluster.counts[f"s:{s}"], s))
    locations = tuple(sorted(profile.common("l:"), key=lambda p: (-cluster.counts[f"l:{p}"], p)))
    identifiers = sorted(profile.common("i:"))
    terms = tuple(concepts + subjects + identifiers)
    named = [_(LABELS.get(term, term)) for term in concepts[:1] + subjects[:1]]
    title = f"{cluster.stream}: " + " ".join(named + [i.upper() for i in identifiers[:1]])
    if locations:
        title += f" ({', '.join(locations[:2])})"
    reasons = [
        _("%(count)d near-identical reports about %(brand)s")
        % {"count": cluster.member_count, "brand": cluster.stream},
        _("shared terms: %(terms)s") % {"terms": ", ".join(terms)},
    ]
    if locations:
        reasons.append(_("locations: %(places)s") % {"places": ", ".join(locations)})
    reasons.append(
        _("volume %(volume).2f per minute against a baseline of %(baseline).3f per minute")
        % {"volume": cluster.volume_per_minute, "baseline": cluster.baseline_per_minute}
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


def _locked(cluster_id: int) -> BurstCluster:
    cluster = BurstCluster.objects.select_for_update().get(pk=cluster_id)
    _lock_streams([cluster.stream])
    return cluster


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
    found = mention_features(mention.text, mention.channel.keywords, own=mention.is_own_account)
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
