"""Burst detection (issue 14 §1) on the labelled corpus (triage/tests/burst_corpus.py), replayed
through the real write path into PostgreSQL, and the detector's contract with the incidents."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from monitoring.actions.mentions import store_mentions
from monitoring.adapters.base import RawAuthor, RawMention
from triage import bursts
from triage.burst_text import features
from triage.choices import RuleKind
from triage.models import BurstCluster, BurstMember, BurstRate, Rule
from triage.tests.burst_corpus import KEYWORDS, day
from triage.tests.burst_replay import Replay, corpus_channels, replay

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def _snapshot(result: Replay) -> list[tuple[str, tuple[str, ...]]]:
    """Each opened cluster: its title and its members at the end, by external id."""
    titles = {signal.cluster_id: signal.title for signal in result.signals}
    return sorted(
        (titles[pk], tuple(result.posts[m].external_id for m in members))
        for pk, members in result.members.items()
    )


def test_replaying_the_same_traffic_gives_the_same_clusters() -> None:
    evening = [post for post in day() if post.created_at.hour >= 16]
    snapshots = []
    for _run in range(2):
        with transaction.atomic():
            snapshots.append(_snapshot(replay(evening)))
            transaction.set_rollback(True)
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]) == 1 and len(snapshots[0][0][1]) == 16


def test_a_quiet_day_has_no_burst() -> None:
    result = replay(day(quiet=True))
    assert len(result.posts) > 500
    assert result.signals == []
    assert not BurstCluster.objects.filter(opened_at__isnull=False).exists()


def _store(texts: list[str], *, start: datetime, step: timedelta) -> list[int]:
    channel = corpus_channels()["twitter"]
    raws = [
        RawMention(
            external_id=f"t-{start:%H%M}-{index}",
            author=RawAuthor(handle=f"@u{index}", display_name="", platform_user_id=""),
            text=text,
            created_at=start + index * step,
        )
        for index, text in enumerate(texts)
    ]
    inserted, _known = store_mentions(channel, raws, {}, now=start + len(texts) * step)
    return [inserted[raw.external_id].id for raw in raws]


OUTAGE = [
    "Telvia Internet in Köln weg",
    "Telvia internet down in Cologne",
    "Störung bei Telvia in Köln, kein Internet",
    "Telvia outage Cologne, no internet",
    "Telvia Köln Internet ausgefallen",
]


def test_observing_a_mention_twice_changes_nothing() -> None:
    ids = _store(OUTAGE, start=T0, step=timedelta(minutes=1))
    signals = bursts.observe(ids, now=T0 + timedelta(minutes=6))
    assert [s.opened for s in signals] == [True]
    assert bursts.observe(ids, now=T0 + timedelta(minutes=7)) == []
    assert BurstMember.objects.count() == 5
    assert BurstCluster.objects.get().member_count == 5
    assert list(BurstRate.objects.values_list("reports", flat=True)) == [5]


def test_a_mention_costs_two_statements_and_a_report_three() -> None:
    """The detector's hot path (bench/bursts.py): the mention with its brands' locks and its
    observation; for a report its candidate clusters, then its observation and membership."""
    other, report, joining = _store(
        ["Telvia hat neue Tarife", *OUTAGE[:2]], start=T0, step=timedelta(minutes=1)
    )
    bursts.lexicon()  # the rule book's words, cached per process (one query after a change)
    for pk, expected in ((other, 2), (report, 3), (joining, 3)):
        with CaptureQueriesContext(connection) as queries:
            bursts.observe([pk], now=T0 + timedelta(minutes=4))
        assert len(queries.captured_queries) == expected
    assert BurstCluster.objects.get().member_count == 2


def test_the_reasons_speak_the_desks_language() -> None:
    ids = _store(OUTAGE, start=T0, step=timedelta(minutes=1))
    with translation.override("de"):
        (signal,) = bursts.observe(ids, now=T0 + timedelta(minutes=6))
    assert signal.title == "Telvia: Störung Internet (Köln)"
    assert "gemeinsame Begriffe: Störung, Internet" in signal.reasons
    assert "Orte: Köln" in signal.reasons
    volume = "Aufkommen 1,33 pro Minute bei einer Grundlinie von 0,010 pro Minute"
    assert signal.reasons[-1] == volume


def test_an_ended_cluster_takes_no_later_posts() -> None:
    ids = _store(OUTAGE, start=T0, step=timedelta(minutes=1))
    (signal,) = bursts.observe(ids, now=T0 + timedelta(minutes=6))
    bursts.end_cluster(signal.cluster_id, now=T0 + timedelta(minutes=10))
    later = _store(
        ["Telvia Internet in Köln immer noch weg?", "Internet ist wieder da, danke Telvia"],
        start=T0 + timedelta(minutes=12),
        step=timedelta(minutes=1),
    )
    assert bursts.observe(later, now=T0 + timedelta(minutes=14)) == []
    assert bursts.members_of(signal.cluster_id) == ids


def test_members_edited_by_hand_are_followed_by_the_detector() -> None:
    ids = _store(OUTAGE, start=T0, step=timedelta(minutes=1))
    (signal,) = bursts.observe(ids, now=T0 + timedelta(minutes=6))
    (praise,) = _store(["Telvia ist super"], start=T0 + timedelta(minutes=7), step=timedelta(0))
    assert bursts.observe([praise], now=T0 + timedelta(minutes=8)) == []
    bursts.add_member(signal.cluster_id, praise)
    bursts.remove_member(signal.cluster_id, ids[0])
    assert bursts.members_of(signal.cluster_id) == ids[1:] + [praise]
    assert bursts.observe([ids[0]], now=T0 + timedelta(minutes=9)) == []  # stays out
    cluster = BurstCluster.objects.get(pk=signal.cluster_id)
    assert cluster.member_count == 5 and cluster.started_at == T0 + timedelta(minutes=1)
    (more,) = _store(
        ["Telvia Köln Störung, Internet tot"], start=T0 + timedelta(minutes=10), step=timedelta(0)
    )
    (joined,) = bursts.observe([more], now=T0 + timedelta(minutes=11))
    assert (joined.opened, joined.new_mention_ids) == (False, (more,))
    assert joined.mention_ids == (*ids[1:], praise, more)


@pytest.mark.django_db(transaction=True)
def test_two_workers_feeding_one_burst_make_one_cluster() -> None:
    ids = _store(OUTAGE * 2, start=T0, step=timedelta(seconds=40))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(share: list[int]) -> None:
        try:
            barrier.wait()
            for pk in share:
                bursts.observe([pk], now=T0 + timedelta(minutes=8))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(ids[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert BurstCluster.objects.count() == 1
    assert BurstCluster.objects.get().member_count == 10
    assert BurstCluster.objects.filter(opened_at__isnull=False).count() == 1


def test_the_features_link_german_and_english_reports() -> None:
    german = features("Störung bei @Telvia_hilft in Köln: Internet ausgefallen", KEYWORDS)
    english = features("Telvia internet is down in Cologne, no connection", KEYWORDS)
    assert german.stream == english.stream == "Telvia"
    assert german.keys == english.keys == ["c:outage", "l:Köln", "s:internet"]
    assert (german.language, english.language) == ("de", "en")
    assert features("Telvia Internet ist wieder da", KEYWORDS).kind == "restored"
    assert features("Unwetterwarnung Köln, Telvia Ausfälle möglich", KEYWORDS).kind == "warning"
    assert features("Die Telvia App funktioniert super", KEYWORDS).kind == "other"
    assert features("Die Telvia App funktioniert nicht", KEYWORDS).concepts == {"failure"}
    assert features("PaketBlitz and ZugPlus", KEYWORDS).stream == "PaketBlitz"


def test_the_desks_own_words_extend_the_lexicon() -> None:
    """An energy provider's outage: "Stromausfall" and "Strom" are not built in; added as
    triage rules of the incident kinds (in the admin), a burst of them is found."""
    texts = [
        "Telvia Stromausfall in Köln?",
        "Stromausfall bei Telvia in Köln, kein Strom seit 10 Minuten",
        "Telvia: Köln ohne Strom, Stromausfall!",
        "Wieder Stromausfall Köln Telvia",
        "Telvia kein Strom in Köln, Stromausfall",
    ]
    quiet = _store(texts, start=T0, step=timedelta(minutes=1))
    assert bursts.observe(quiet, now=T0 + timedelta(minutes=6)) == []
    Rule.objects.create(kind=RuleKind.INCIDENT_TERM, pattern="Stromausfall", label="outage")
    Rule.objects.create(kind=RuleKind.INCIDENT_SUBJECT, pattern="strom", label="Strom")
    ids = _store(texts, start=T0 + timedelta(hours=2), step=timedelta(minutes=1))
    with translation.override("de"):
        (signal,) = bursts.observe(ids, now=T0 + timedelta(hours=2, minutes=6))
    assert signal.title == "Telvia: Störung Strom (Köln)"
    assert signal.mention_ids == tuple(ids)


def test_an_incident_word_is_one_word() -> None:
    rule = Rule(kind=RuleKind.INCIDENT_PLACE, pattern="Bad Godesberg", label="Bonn")
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "pattern" in refused.value.message_dict
    Rule(kind=RuleKind.INCIDENT_PLACE, pattern="Godesberg", label="Bonn").full_clean()
