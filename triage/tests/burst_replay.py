"""Replaying a labelled burst corpus through the real write path (store_mentions, then the
detector in arrival order), for the tests and bench/bursts.py."""

import random
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from monitoring.actions.mentions import store_mentions
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Channel
from tickets.tests.factories import ChannelFactory
from triage import bursts
from triage.tests.burst_corpus import ENDS, KEYWORDS, PLATFORMS, Post


def corpus_channels() -> dict[str, Channel]:
    return {
        platform: ChannelFactory(
            slug=f"burst-{platform}",
            # forum and review posts arrive through a feed
            platform=platform if platform in Platform.values else Platform.RSS,
            keywords=list(KEYWORDS),
            own_accounts=["@Telvia_hilft_team"],
        )
        for platform in PLATFORMS
    }


@dataclass
class Replay:
    posts: dict[int, Post] = field(default_factory=dict)  # mention id → post
    signals: list[bursts.BurstSignal] = field(default_factory=list)
    members: dict[int, list[int]] = field(default_factory=dict)  # cluster → mention ids
    opened_at_member: dict[int, int] = field(default_factory=dict)  # cluster → nth member
    seconds: list[float] = field(default_factory=list)  # detector time per observed mention
    cpu_seconds: list[float] = field(default_factory=list)  # of this process (not the server)
    statements: list[int] = field(default_factory=list)  # its SQL statements

    def burst_of(self, cluster_id: int) -> str | None:
        labels = Counter(self.posts[pk].burst for pk in self.members[cluster_id])
        return labels.most_common(1)[0][0]

    def predicted(self) -> set[int]:
        return {pk for members in self.members.values() for pk in members}

    def truth(self) -> set[int]:
        return {pk for pk, post in self.posts.items() if post.burst}


def replay(
    posts: Sequence[Post], *, seed: int = 14, timer=None, count_queries: bool = False
) -> Replay:
    """Store each post when it arrives (its created_at plus a lag of 5–120 s) and observe it;
    a burst's incident is closed (end_cluster) at its labelled end."""
    rng = random.Random(seed)
    channels = corpus_channels()
    arrivals = sorted(
        ((post.created_at + timedelta(seconds=rng.uniform(5, 120)), post) for post in posts),
        key=lambda pair: (pair[0], pair[1].external_id),
    )
    result = Replay()
    starts: dict[str, object] = {}
    ended: set[str] = set()
    cluster_of_burst: dict[str, int] = {}
    for arrived, post in arrivals:
        for name, cluster_id in cluster_of_burst.items():
            if name not in ended and arrived >= starts[name] + ENDS[name]:
                bursts.end_cluster(cluster_id, now=arrived)
                ended.add(name)
        raw = RawMention(
            external_id=post.external_id,
            author=RawAuthor(handle=post.handle, display_name="", platform_user_id=""),
            text=post.text,
            created_at=post.created_at,
        )
        with transaction.atomic():
            inserted, _known = store_mentions(channels[post.platform], [raw], {}, now=arrived)
        mention_id = inserted[post.external_id].id
        result.posts[mention_id] = post
        # every 10th mention's statements are counted, the others timed (counting costs time)
        counted = count_queries and len(result.posts) % 10 == 0
        with CaptureQueriesContext(connection) if counted else nullcontext() as queries:
            started, cpu = (timer(), time.thread_time()) if timer else (0.0, 0.0)
            signals = bursts.observe([mention_id], now=arrived)
            if timer and not counted:
                result.seconds.append(timer() - started)
                result.cpu_seconds.append(time.thread_time() - cpu)
        if counted:
            result.statements.append(len(queries.captured_queries))
        for signal in signals:
            result.signals.append(signal)
            result.members[signal.cluster_id] = list(signal.mention_ids)
            if signal.opened:
                result.opened_at_member[signal.cluster_id] = len(signal.mention_ids)
                name = result.burst_of(signal.cluster_id)
                if name and name not in cluster_of_burst:
                    cluster_of_burst[name] = signal.cluster_id
                    starts[name] = signal.started_at
    return result
