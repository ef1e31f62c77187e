"""Benchmark: burst detection (issue 14 §1) on the labelled corpus, at 1M stored mentions.

    .venv/bin/python -m bench.bursts [--mentions 1000000] [--database sd_bench_bursts] [--reseed]

Seeds its own database once (reused while it holds `--mentions` mentions): the migrations, the
corpus channels, `--mentions` mentions by COPY over the year before the labelled day (texts
of the corpus: 98 % ordinary traffic, 2 % single incident reports, as on the labelled day),
and the detector's state for them as observe would have left it (one observation per
mention, a one-member cluster per report, the hourly report counts of the baseline).

Then replays the labelled day and the quiet day of triage/tests/burst_corpus.py through
store_mentions and triage.bursts.observe in arrival order (each replay in a transaction that
is rolled back, so the database stays as seeded), and prints mention-level burst recall and
precision (targets ≥ 0.95), the member at which each burst's cluster opened (target ≤ 5),
the bursts opened on the quiet day (target 0) and the detector's time per mention (p50/p95,
target < 2 ms). Finally it measures the near-duplicate measures that were weighed for the
clustering (docs/triage.md): pg_trgm similarity and datasketch MinHash over character
shingles against the burst features, on pairs of the corpus, and what a pg_trgm lookup costs
at this size. Writes bench/results/bursts.json.
"""

import argparse
import io
import random
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from bench.common import (
    load_average,
    manage,
    percentile,
    recreate_database,
    seeded_rows,
    write_json,
)

DATABASE = "sd_bench_bursts"
SEED = 20261203
TARGETS = {"recall": 0.95, "precision": 0.95, "opened_by": 5, "quiet_bursts": 0, "p95_ms": 2.0}
REPORT_SHARE = 0.02  # single incident reports: as on the labelled day (about 11 a brand a day)


def _setup(database: str) -> None:
    from bench.common import setup_django

    setup_django(database)


def mention_count(database: str) -> int:
    return seeded_rows(database, "monitoring_mention", requires="triage_burstobservation")


def _copy(cursor: Any, table: str, columns: str, rows: list[str]) -> None:
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO("".join(rows)))


def seed(database: str, count: int) -> dict[str, Any]:
    """COPY `count` mentions and the detector state observe would have written for them."""
    from bench.common import bench_environment

    started = time.monotonic()
    recreate_database(database)
    manage(bench_environment(database), "migrate", "--no-input", "-v", "0")
    _setup(database)
    from django.db import connection

    from triage.burst_text import REPORT, features
    from triage.tests import burst_corpus as corpus
    from triage.tests.burst_replay import corpus_channels

    channels = list(corpus_channels().values())
    texts = corpus.BACKGROUND + [t for ts in corpus.UNRELATED.values() for t in ts]
    texts += corpus.SPREAD + [t for *_rest, ts in corpus.BURSTS for t in ts]
    found = {text: features(text, corpus.KEYWORDS) for text in texts}
    reports = [t for t in texts if found[t].stream and found[t].kind == REPORT]
    ordinary = [t for t in texts if t not in reports]
    rng = random.Random(SEED)
    first = corpus.DAY - timedelta(days=365)
    span = (corpus.DAY - first).total_seconds()
    hourly: Counter[tuple[str, str]] = Counter()
    with connection.cursor() as cursor:
        next_id = 1
        for chunk_start in range(0, count, 100_000):
            mentions, observations, clusters, members = [], [], [], []
            for number in range(chunk_start, min(chunk_start + 100_000, count)):
                text = rng.choice(reports if rng.random() < REPORT_SHARE else ordinary)
                at = first + timedelta(seconds=span * number / count)
                stamp = at.isoformat()
                channel = channels[number % len(channels)]
                mentions.append(
                    f"{next_id}\t{channel.pk}\tseed-{next_id}\t@seed{number % 50_000}\t\t\t"
                    f"{text}\t{stamp}\t{stamp}\t\t\tf\tf\tf\t\t{{}}\n"
                )
                feature = found[text]
                observations.append(f"{next_id}\t{feature.stream}\t{feature.kind}\t{stamp}\n")
                if feature.stream and feature.kind == REPORT:
                    keys = "{" + ",".join(f'"{k}"' for k in feature.keys) + "}"
                    counts = "{" + ", ".join(f'"{k}": 1' for k in feature.keys) + "}"
                    clusters.append(
                        f"{next_id}\t{feature.stream}\t{keys}\t{counts}\t1\t{stamp}\t{stamp}\t"
                        f"\\N\t\\N\t0\t0\n"
                    )
                    members.append(f"{next_id}\t{next_id}\t{next_id}\t{keys}\t{stamp}\tf\n")
                    hourly[
                        (feature.stream, at.replace(minute=0, second=0, microsecond=0).isoformat())
                    ] += 1
                next_id += 1
            _copy(cursor, "monitoring_mention", "id, channel_id, external_id, author_handle, "
                  "author_display_name, author_platform_user_id, text, created_at, "
                  "received_at, url, in_reply_to, is_private, is_own_account, is_hidden, "
                  "language, raw", mentions)  # fmt: skip
            _copy(cursor, "triage_burstobservation", "mention_id, stream, kind, observed_at",
                  observations)  # fmt: skip
            _copy(cursor, "triage_burstcluster", "id, stream, keys, counts, member_count, "
                  "started_at, last_at, opened_at, ended_at, volume_per_minute, "
                  "baseline_per_minute", clusters)  # fmt: skip
            _copy(cursor, "triage_burstmember", "id, cluster_id, mention_id, keys, created_at, "
                  "by_hand", members)  # fmt: skip
        rates = [f"{stream}\t{hour}\t{n}\n" for (stream, hour), n in sorted(hourly.items())]
        _copy(cursor, "triage_burstrate", "stream, hour, reports", rates)
        for table in ("monitoring_mention", "triage_burstcluster", "triage_burstmember"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")  # fmt: skip
        for table in ("monitoring_mention", "triage_burstobservation", "triage_burstcluster",
                      "triage_burstmember", "triage_burstrate"):  # fmt: skip
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SELECT count(*) FROM triage_burstcluster")
        seeded_clusters = cursor.fetchone()[0]
    return {"mentions": count, "clusters": seeded_clusters, "hours": len(hourly),
            "seed_seconds": round(time.monotonic() - started, 1)}  # fmt: skip


def replay_day(quiet: bool) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import translation

    from triage.tests.burst_corpus import day
    from triage.tests.burst_replay import replay

    with translation.override("de"), transaction.atomic():
        result = replay(day(quiet=quiet), timer=time.perf_counter, count_queries=True)
        truth, predicted = result.truth(), result.predicted()
        figures = {
            "mentions": len(result.posts),
            "burst_mentions": len(truth),
            "detected_mentions": len(predicted),
            "recall": round(len(truth & predicted) / len(truth), 3) if truth else None,
            "precision": round(len(truth & predicted) / len(predicted), 3) if predicted else None,
            "bursts": [
                {
                    "burst": result.burst_of(cluster_id),
                    "title": next(s.title for s in result.signals if s.cluster_id == cluster_id),
                    "members": len(members),
                    "opened_at_member": result.opened_at_member[cluster_id],
                    "platforms": len({result.posts[pk].platform for pk in members}),
                }
                for cluster_id, members in sorted(result.members.items())
            ],
            "ms": [round(seconds * 1000, 3) for seconds in result.seconds],
            "statements": result.statements,
            "cpu_ms": [round(seconds * 1000, 3) for seconds in result.cpu_seconds],
        }
        transaction.set_rollback(True)
    return figures


def _pairs() -> dict[str, list[tuple[str, str]]]:
    """Pairs of the labelled day: two reports of one burst (same or other language), and a
    burst report with another post about the same brand within two hours."""
    from triage.burst_text import features
    from triage.tests.burst_corpus import KEYWORDS, day

    posts = day()
    language = {p.external_id: features(p.text, KEYWORDS).language for p in posts}
    brand = {p.external_id: features(p.text, KEYWORDS).stream for p in posts}
    pairs: dict[str, list[tuple[str, str]]] = {"same_language": [], "cross_language": [],
                                               "decoy": []}  # fmt: skip
    members = [p for p in posts if p.burst]
    for index, a in enumerate(members):
        for b in members[index + 1 :]:
            if a.burst == b.burst:
                same = language[a.external_id] == language[b.external_id]
                pairs["same_language" if same else "cross_language"].append((a.text, b.text))
        for other in posts:
            if (not other.burst and brand[other.external_id] == brand[a.external_id]
                    and abs(other.created_at - a.created_at) < timedelta(hours=2)):  # fmt: skip
                pairs["decoy"].append((a.text, other.text))
    return pairs


def compare_measures(database: str) -> dict[str, Any]:
    """Share of pairs each measure calls near-duplicates, and its cost."""
    from datasketch import MinHash
    from django.db import connection

    from triage.burst_text import Profile, features, match_score
    from triage.tests.burst_corpus import KEYWORDS

    def minhash(text: str) -> MinHash:
        sketch = MinHash(num_perm=128, seed=1)
        lowered = " ".join(text.lower().split())
        for i in range(max(len(lowered) - 3, 1)):
            sketch.update(lowered[i : i + 4].encode())
        return sketch

    def features_match(a: str, b: str) -> float:
        first, second = features(a, KEYWORDS), features(b, KEYWORDS)
        if first.stream != second.stream or "report" not in (first.kind, second.kind):
            return 0.0
        profile = Profile(members=1, counts=dict.fromkeys(first.keys, 1))
        return float(match_score(second, profile) > 0) if second.kind == "report" else 0.0

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

        def trigram(pairs: list[tuple[str, str]]) -> list[float]:
            cursor.execute(
                "SELECT similarity(a, b) FROM unnest(%s::text[], %s::text[]) AS p(a, b)",
                [[a for a, _b in pairs], [b for _a, b in pairs]],
            )
            return [row[0] for row in cursor.fetchall()]

        measures: dict[str, Any] = {}
        pairs = _pairs()
        scorers = {
            "pg_trgm similarity ≥ 0.3": lambda ps: [s >= 0.3 for s in trigram(ps)],
            "MinHash 4-shingles Jaccard ≥ 0.5": lambda ps: [
                minhash(a).jaccard(minhash(b)) >= 0.5 for a, b in ps
            ],
            "MinHash 4-shingles Jaccard ≥ 0.2": lambda ps: [
                minhash(a).jaccard(minhash(b)) >= 0.2 for a, b in ps
            ],
            "burst features (chosen)": lambda ps: [features_match(a, b) > 0 for a, b in ps],
        }
        for name, scorer in scorers.items():
            measures[name] = {
                kind: round(sum(scorer(ps)) / len(ps), 3) for kind, ps in pairs.items()
            }
        # costs: one candidate lookup by trigram similarity in the stored mentions, one MinHash
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS bench_mention_text_trgm ON monitoring_mention "
            "USING gin (text gin_trgm_ops)"
        )
        samples = []
        probe = "Telvia Störung Köln, Internet weg seit einer Stunde"
        for _run in range(10):
            started = time.perf_counter()
            cursor.execute(
                "SELECT id FROM monitoring_mention WHERE text %% %s ORDER BY id DESC LIMIT 50",
                [probe],
            )
            cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for _run in range(200):
            minhash(probe)
        costs = {
            "pg_trgm_lookup_median_ms": round(statistics.median(samples), 1),
            "minhash_128_ms": round((time.perf_counter() - started) * 1000 / 200, 3),
        }
    return {"pairs": {kind: len(ps) for kind, ps in pairs.items()}, "share_matched": measures,
            "costs": costs}  # fmt: skip


def select_one_ms(runs: int = 200) -> float:
    """The median round trip of `SELECT 1` in a savepoint, now: the scale of one statement on
    this machine at its present load (a mention costs 4 statements; see the figures)."""
    from django.db import connection, transaction

    samples = []
    with transaction.atomic(), connection.cursor() as cursor:
        for _run in range(runs):
            started = time.perf_counter()
            with transaction.atomic():
                cursor.execute("SELECT 1")
                cursor.fetchone()
            samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--no-compare", action="store_true", help="skip the measure comparison")
    parser.add_argument("--json", default="bursts.json", help="file name in bench/results")
    options = parser.parse_args(argv)
    load_before = load_average()
    seeded: dict[str, Any] = {"reused": True}
    if options.reseed or mention_count(options.database) < options.mentions:
        print(f"seeding {options.mentions:,} mentions into {options.database} …", flush=True)
        seeded = {"reused": False, **seed(options.database, options.mentions)}
        print(f"seeded: {seeded}", flush=True)
    else:
        _setup(options.database)
    stored = mention_count(options.database)
    labelled = replay_day(quiet=False)
    quiet = replay_day(quiet=True)
    samples = labelled.pop("ms") + quiet.pop("ms")
    statements = labelled.pop("statements") + quiet.pop("statements")
    cpu = labelled.pop("cpu_ms") + quiet.pop("cpu_ms")
    cost = {"p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(percentile(samples, 0.95), 3),
            "max_ms": round(max(samples), 3), "samples": len(samples),
            "client_cpu_p50_ms": round(statistics.median(cpu), 3),
            "client_cpu_p95_ms": round(percentile(cpu, 0.95), 3),
            "statements_median": statistics.median(statements),
            "statements_max": max(statements)}  # fmt: skip
    cost["select_1_ms"] = select_one_ms()
    opened_by = max((b["opened_at_member"] for b in labelled["bursts"]), default=None)
    verdicts = {
        "recall": (labelled["recall"] or 0) >= TARGETS["recall"],
        "precision": (labelled["precision"] or 0) >= TARGETS["precision"],
        "opened_by": opened_by is not None and opened_by <= TARGETS["opened_by"],
        "quiet_bursts": len(quiet["bursts"]) == TARGETS["quiet_bursts"],
        "p95_ms": cost["p95_ms"] < TARGETS["p95_ms"],
    }
    comparison = None if options.no_compare else compare_measures(options.database)
    figures = {
        "stored_mentions": stored,
        "seed": seeded,
        "labelled_day": labelled,
        "quiet_day": quiet,
        "opened_by_member": opened_by,
        "cost": cost,
        "targets": TARGETS,
        "verdicts": verdicts,
        "comparison": comparison,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print(
        f"\n{stored:,} stored mentions; labelled day {labelled['mentions']} posts "
        f"({labelled['burst_mentions']} in bursts), quiet day {quiet['mentions']} posts\n"
    )
    for burst in labelled["bursts"]:
        print(f"  {burst['title']:<40} {burst['members']:>3} members on {burst['platforms']} "
              f"platforms, opened at member {burst['opened_at_member']}")  # fmt: skip

    def verdict(name: str) -> str:
        return "met" if verdicts[name] else "MISSED"

    print(
        f"\nburst recall {labelled['recall']} (≥ 0.95: {verdict('recall')}), precision "
        f"{labelled['precision']} (≥ 0.95: {verdict('precision')})"
    )
    print(
        f"opened by member {opened_by} (≤ 5: {verdict('opened_by')}); bursts on the quiet "
        f"day {len(quiet['bursts'])} (0: {verdict('quiet_bursts')})"
    )
    print(f"detection per mention: p50 {cost['p50_ms']} ms, p95 {cost['p95_ms']} ms, max "
          f"{cost['max_ms']} ms over {cost['samples']} mentions (< 2 ms: {verdict('p95_ms')}); "
          f"of it CPU of this process p50 {cost['client_cpu_p50_ms']} ms, p95 "
          f"{cost['client_cpu_p95_ms']} ms; SQL statements per mention: median "
          f"{cost['statements_median']}, max {cost['statements_max']}; load average "
          f"{load_before} before, {load_average()} after; one SELECT 1 in a savepoint "
          f"{cost['select_1_ms']} ms")  # fmt: skip
    if comparison:
        print(f"\nnear-duplicate measures, share of pairs matched {comparison['pairs']}:")
        for name, shares in comparison["share_matched"].items():
            print(f"  {name:<36} {shares}")
        print(f"  costs: {comparison['costs']}")
    path = write_json(options.json, figures)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
