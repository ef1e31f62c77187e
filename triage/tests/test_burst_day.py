"""Burst detection (issue 14 §1) on the labelled day of triage/tests/burst_corpus.py, replayed
once through the real write path into PostgreSQL for every test of this module."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.utils import translation

from triage.burst_text import features
from triage.tests.burst_corpus import BURSTS, KEYWORDS, Post, day
from triage.tests.burst_replay import Replay, replay

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def labelled_day(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Replay]:
    """The labelled day replayed once for the tests of this module (rolled back after), in
    the desk's language as the Celery worker runs it."""
    with django_db_blocker.unblock(), translation.override("de"), transaction.atomic():
        yield replay(day())
        transaction.set_rollback(True)


def _language(post: Post) -> str:
    return features(post.text, KEYWORDS).language


def test_each_decoy_kind_stays_outside_the_bursts(labelled_day: Replay) -> None:
    predicted = labelled_day.predicted()
    for kind in ("spread", "unrelated", "warning", "aftermath", "background"):
        decoys = {pk for pk, post in labelled_day.posts.items() if post.decoy == kind}
        assert decoys, kind
        assert not decoys & predicted, kind
    assert predicted == labelled_day.truth()


def test_a_burst_across_platforms_and_languages_is_one_cluster(labelled_day: Replay) -> None:
    clusters = {pk: labelled_day.burst_of(pk) for pk in labelled_day.members}
    assert sorted(clusters.values()) == sorted(name for name, *_rest in BURSTS)
    for cluster_id, name in clusters.items():
        members = [labelled_day.posts[pk] for pk in labelled_day.members[cluster_id]]
        expected = [post for post in labelled_day.posts.values() if post.burst == name]
        assert sorted(p.external_id for p in members) == sorted(p.external_id for p in expected)
        assert len({post.platform for post in members}) >= 3
        assert {_language(post) for post in members} >= {"de", "en"}


def test_detection_opens_by_the_fifth_member_and_signals_follow_the_contract(
    labelled_day: Replay,
) -> None:
    assert labelled_day.opened_at_member
    assert all(nth <= 5 for nth in labelled_day.opened_at_member.values())
    for cluster_id in labelled_day.members:
        signals = [s for s in labelled_day.signals if s.cluster_id == cluster_id]
        assert [s.opened for s in signals] == [True] + [False] * (len(signals) - 1)
        assert signals[0].new_mention_ids == signals[0].mention_ids
        later = [pk for s in signals[1:] for pk in s.new_mention_ids]
        assert list(signals[0].mention_ids) + later == labelled_day.members[cluster_id]
        first = labelled_day.posts[signals[0].mention_ids[0]]
        assert signals[0].started_at == first.created_at
        assert signals[0].reasons and signals[0].terms
    titles = {labelled_day.burst_of(s.cluster_id): s.title for s in labelled_day.signals}
    assert titles["telvia-koeln"] == "Telvia: Störung Internet (Köln)"
    telvia = next(s for s in labelled_day.signals if s.title.startswith("Telvia") and s.opened)
    assert telvia.locations == ("Köln",)
    assert telvia.volume_per_minute > telvia.baseline_per_minute
