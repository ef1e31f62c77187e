"""Burst detection on data it was not written for: the desk's sample corpus
(monitoring/demo_data/sample_mentions.jsonl, labelled by the labelling guide of
../shared/data), whose `crisis_burst` posts are one PaketBlitz app login outage on four
platforms, in German and English, with time stamps in two zones."""

import json
from datetime import datetime

import pytest
from django.utils import translation

from monitoring.adapters.demo import CORPUS_PATH
from triage.tests.burst_corpus import PLATFORMS, Post
from triage.tests.burst_replay import replay

pytestmark = pytest.mark.django_db


def _sample() -> list[Post]:
    rows = [json.loads(line) for line in CORPUS_PATH.read_text("utf-8").splitlines() if line]
    return [
        Post(
            external_id=row["external_id"],
            # blogs arrive through a feed, as the review sites do
            platform=row["platform"] if row["platform"] in PLATFORMS else "review",
            handle=row["author_handle"],
            text=row["text"],
            created_at=datetime.fromisoformat(row["created_at"]),
            burst="paketblitz-app" if row["crisis_burst"] else None,
        )
        for row in rows
    ]


def test_the_sample_corpus_burst_is_found_and_nothing_else() -> None:
    posts = _sample()
    assert sum(post.burst is not None for post in posts) == 6
    with translation.override("de"):
        result = replay(posts)
    assert result.predicted() == result.truth()
    (cluster_id,) = result.members
    (title,) = {signal.title for signal in result.signals if signal.cluster_id == cluster_id}
    assert title.startswith("PaketBlitz:")
    assert result.opened_at_member[cluster_id] <= 5
